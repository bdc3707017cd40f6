"""The staff JSON API under /api/v1 (CONTRACT "Staff API")."""
from flask import Blueprint, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticate_then_csrf():
    """Who is asking comes first: signed out (or a bad token) is a 401 whatever the method (CONTRACT),
    never a CSRF 400. Bearer-token clients are exempt from CSRF; a signed-in browser must send X-CSRFToken."""
    from flask import current_app

    from .. import csrf
    from ..access import policy_for
    from ..auth import bearer_token, current_staff

    policy = policy_for(current_app, request.endpoint)
    if policy is not None and policy.kind == "staff":
        current_staff()
    if request.method not in ("GET", "HEAD", "OPTIONS") and not bearer_token():
        csrf.protect()


from . import admin, callbacks, callers, calls, cases, errors  # noqa: E402,F401
from . import register, register_customers  # noqa: E402,F401  (caution register, issue 5)
from . import callback_work, incidents  # noqa: E402,F401
