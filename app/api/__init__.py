"""The staff JSON API under /api/v1 (CONTRACT "Staff API")."""
from flask import Blueprint, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _csrf_for_browser_sessions():
    """Bearer-token clients are exempt from CSRF; a signed-in browser must send X-CSRFToken."""
    from flask_login import current_user

    from .. import csrf
    from ..auth import current_staff, bearer_token

    if request.method not in ("GET", "HEAD", "OPTIONS") and not bearer_token():
        if not current_user.is_authenticated:
            current_staff()  # 401 first: an unauthenticated request is a 401 whatever its method (CONTRACT)
        csrf.protect()


from . import admin, callbacks, callers, calls, cases, errors  # noqa: E402,F401
from . import register, register_customers  # noqa: E402,F401  (caution register, issue 5)
from . import callback_work, incidents  # noqa: E402,F401
