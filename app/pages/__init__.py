"""Browser pages for staff (CONTRACT "Pages")."""
from flask import Blueprint, render_template, request

from ..forms import typed

bp = Blueprint("pages", __name__)
bp.add_app_template_global(typed)  # a refused form shows what was typed again (app/forms.py)


@bp.app_template_filter("label")
def _label(code, vocabulary: str) -> str:
    """`{{ code | label("outcome") }}`: what people read for a code (issue 14.6, call_flows.labels)."""
    from call_flows.labels import label

    return label(vocabulary, code)


@bp.app_errorhandler(405)
def _wrong_method(exc):
    """14.8: a page address that only takes a form (a bookmarked or reloaded POST, e.g. /register/review)
    opened in the browser shows a page that says so and links back, not a raw 405. The API and Twilio
    keep their own answers."""
    if request.path.startswith(("/api/", "/twilio/")):
        from ..routing import _for_audience

        return _for_audience(exc)  # the API's JSON error, Twilio's TwiML (app/routing.py)
    response = render_template("console/wrong_method.html", back=_back_for(request.path))
    return response, 405, {"Allow": ", ".join(exc.valid_methods or ())}


def _back_for(path: str) -> str:
    """The page a form's address belongs to: its first path segment (/register/review -> /register)."""
    first = path.strip("/").split("/")[0]
    return {"register": "/register", "callbacks": "/callbacks", "incidents": "/incidents", "console": "/console",
            "board": "/board", "admin": "/admin/users", "account": "/account/password"}.get(first, "/")


from . import login  # noqa: E402,F401
from . import sso  # noqa: E402,F401  (single sign-on, 14.5)
from . import board, console, trends  # noqa: E402,F401  (issue 6)
from . import register_import  # noqa: E402,F401  (caution register CSV import and export, issue 5)
from . import register  # noqa: E402,F401  (caution register panel and manager pages, issue 5)
from . import callbacks, incidents  # noqa: E402,F401  (issue 4)
from . import account, admin_users  # noqa: E402,F401  (own password, users and teams: issue 14)
from . import calls  # noqa: E402,F401  (call history and timelines, issue 14.1)
