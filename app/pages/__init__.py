"""Browser pages for staff (CONTRACT "Pages")."""
from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import login  # noqa: E402,F401
from . import board, console, trends  # noqa: E402,F401  (issue 6)
from . import register_import  # noqa: E402,F401  (caution register CSV import and export, issue 5)
from . import register  # noqa: E402,F401  (caution register panel and manager pages, issue 5)
from . import callbacks, incidents  # noqa: E402,F401  (issue 4)
from . import calls  # noqa: E402,F401  (call history and timelines, issue 14.1)
