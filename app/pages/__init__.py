"""Browser pages for staff (CONTRACT "Pages")."""
from flask import Blueprint

bp = Blueprint("pages", __name__)

from . import login  # noqa: E402,F401
from . import board, console, trends  # noqa: E402,F401  (issue 6)
