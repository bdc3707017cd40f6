"""GET /api/v1/cases/{reference}/notes (M3; R9: only the notes the person may see, else 404)."""
from flask import jsonify

from call_flows.incidents.cases import case_notes as visible_case_notes

from ..auth import current_staff, roles_required
from ..db import db_session
from ..openapi import operation
from . import bp
from .shapes import note_json


@bp.get("/cases/<path:reference>/notes")
@roles_required()
@operation("Case notes of an application or case (M3)", who="the note's author, the call's handler, the team's line "
           "managers (and their deputies) and supervisors, admin; anyone else 404 (R9)")
def case_notes(reference):
    notes = visible_case_notes(db_session(), reference, current_staff())
    return jsonify({"case_reference": reference, "notes": [note_json(seen) for seen in notes]})
