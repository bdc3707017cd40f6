"""Browser pages for staff (CONTRACT "Pages")."""
from flask import Blueprint

bp = Blueprint("pages", __name__)


@bp.app_template_filter("label")
def _label(code, vocabulary: str) -> str:
    """`{{ code | label("outcome") }}`: what people read for a code (issue 14.6, call_flows.labels)."""
    from call_flows.labels import label

    return label(vocabulary, code)


from . import login  # noqa: E402,F401
from . import board, console, trends  # noqa: E402,F401  (issue 6)
from . import register_import  # noqa: E402,F401  (caution register CSV import and export, issue 5)
from . import register  # noqa: E402,F401  (caution register panel and manager pages, issue 5)
from . import callbacks, incidents  # noqa: E402,F401  (issue 4)
from . import account, admin_users  # noqa: E402,F401  (own password, users and teams: issue 14)
