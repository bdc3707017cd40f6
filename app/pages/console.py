"""The handler's console (CONTRACT /console; T1-T4, R1): the page, its JSON state, its live event
stream and the end of a recovery period. Warn, terminate, accept and need use the staff API."""
from flask import jsonify, render_template

from call_flows.calls import console, recovery
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.vocabulary import ImmediateReason, Role, WarningReason

from ..api.shapes import console_json
from ..auth import current_staff
from ..db import db_session, unit_of_work
from . import bp
from .live import event_stream, page_roles


@bp.get("/console")
@page_roles(Role.CALL_HANDLER)
def console_page():
    session = db_session()
    settings = org_settings.load(session)
    return render_template("console/console.html", reasons=WarningReason, immediate_reasons=ImmediateReason,
                           settings=settings)


@bp.get("/console/state")
@page_roles(Role.CALL_HANDLER)
def console_state():
    with unit_of_work() as uow:
        data = console_json(console.state(uow.session, current_staff(), utcnow(), org_settings.load(uow.session)))
        uow.commit()  # R9: the audit row of a first view of the caller's register entry
    return jsonify(data)


event_stream(bp, "/console/events", "console_events", Role.CALL_HANDLER)


@bp.post("/console/recovery/end")
@page_roles(Role.CALL_HANDLER)
def end_recovery():
    """The handler is ready for the next call before their recovery time is up."""
    with unit_of_work() as uow:
        period = recovery.end_early(uow.session, current_staff().id, utcnow())
        uow.commit()
    return jsonify({"ended": period is not None})
