"""GET /api/v1/callers/{phone}: a caller's flags as the role may see them (R9; call_flows/calls/callers.py)."""
from flask import current_app, jsonify

from call_flows import settings as org_settings
from call_flows.calls.callers import flags_for
from call_flows.clock import utcnow
from call_flows.errors import NotFound
from call_flows.phone import to_e164

from ..auth import current_staff, roles_required
from ..db import unit_of_work
from ..openapi import operation
from . import bp
from .shapes_register import caller_flags_json


@bp.get("/callers/<path:phone>")
@roles_required()
@operation("A caller's flags as the role may see them (R9; every look-up audited)", who="call_handler for the caller "
           "on their own current call (else 404); line_manager, supervisor, panel_member, admin for any number "
           "(recent calls: only their teams')")
def caller_flags(phone):
    e164 = to_e164(phone, current_app.config["DEFAULT_REGION"])
    with unit_of_work() as uow:
        result = flags_for(uow.session, e164, current_staff(), utcnow(), org_settings.load(uow.session))
        uow.commit()  # R9: the audit rows of this look-up, refused or not
    if result is None:  # a handler asking about a number not on their own call: told nothing
        raise NotFound(f"no caller {e164} on a call of yours")
    return jsonify(caller_flags_json(result))
