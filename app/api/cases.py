"""GET /api/v1/cases/{reference}/notes (M3)."""
from flask import jsonify

from call_flows.cases import notes_for

from ..auth import roles_required
from ..db import db_session
from . import bp


@bp.get("/cases/<path:reference>/notes")
@roles_required()
def case_notes(reference):
    return jsonify({"case_reference": reference, "notes": notes_for(db_session(), reference)})
