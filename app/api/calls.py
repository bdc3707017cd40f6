"""Live-call controls: accept, warn (T1), need (T2), terminate (T3-T5)."""
from flask import current_app, jsonify, request

from call_flows import control, recovery
from call_flows.call_detail import call_detail
from call_flows.call_history import Search, history
from call_flows import settings as org_settings
from call_flows.clock import utcnow

from ..auth import current_staff, roles_required
from ..db import db_session
from ..events import publish
from ..jobs import commit_and_dispatch
from . import bp
from .call_schemas import CallHistoryOut, CallOut
from .errors import json_body
from .schemas import NeedIn, TerminationIn, WarningIn

CALL_ROLES = ("call_handler", "line_manager", "supervisor")


def call_json(call) -> dict:
    return {"call_sid": call.call_sid, "status": call.status, "caller": call.caller, "caller_kind": call.caller_kind,
            "handler_id": call.handler_id, "started_at": call.started_at.isoformat(), "needs_note": call.needs_note}


@bp.get("/calls")
@roles_required("line_manager", "supervisor", "admin")
def list_calls():
    """Call history (CONTRACT): the caller's teams' calls, newest first, a page at a time."""
    session = db_session()
    args = {field: request.args.get(field) for field in Search.__dataclass_fields__}
    found = history(session, current_staff(), Search(**args), utcnow(), current_app.config.get("DEFAULT_REGION", "GB"))
    session.commit()  # a register-name search is audited (R9)
    return jsonify(CallHistoryOut.model_validate(found).model_dump(mode="json"))


@bp.get("/calls/<call_sid>")
@roles_required()
def get_call(call_sid):
    """The call (CONTRACT): its handler, its team's line managers and supervisors, admins; else 404."""
    return jsonify(CallOut.model_validate(call_detail(db_session(), call_sid, current_staff())).model_dump(mode="json"))


@bp.post("/calls/<call_sid>/accept")
@roles_required("call_handler", "line_manager")
def accept_call(call_sid):
    session = db_session()
    call = control.accept(session, call_sid, current_staff(), utcnow())
    commit_and_dispatch(session)
    publish(current_app, "call_accepted", call_sid=call.call_sid, handler_id=call.handler_id, team_id=call.team_id)
    return jsonify(call_json(call))


@bp.post("/calls/<call_sid>/warnings")
@roles_required(*CALL_ROLES)
def warn_caller(call_sid):
    body = WarningIn.model_validate(json_body())
    session = db_session()
    warning = control.warn(session, call_sid, current_staff(), body.reason, body.detail, utcnow())
    commit_and_dispatch(session)
    session.refresh(warning)
    call = control.get_call(session, call_sid)  # the event's scope: who may see it (call_flows.live_scope)
    publish(current_app, "call_warned", call_sid=call_sid, reason=warning.reason, handler_id=call.handler_id,
            team_id=call.team_id)
    return jsonify(warning_json(warning)), 201


@bp.post("/calls/<call_sid>/need")
@roles_required(*CALL_ROLES)
def note_need(call_sid):
    body = NeedIn.model_validate(json_body())
    session = db_session()
    call = control.note_need(session, call_sid, current_staff(), body.need)
    session.commit()
    return jsonify(call_json(call))


@bp.post("/calls/<call_sid>/termination")
@roles_required(*CALL_ROLES)
def terminate_call(call_sid):
    body = TerminationIn.model_validate(json_body())
    session = db_session()
    settings = org_settings.load(session)
    result = control.terminate(
        session, call_sid, current_staff(), body.reason, body.immediate_reason, body.immediate_detail,
        body.case_reference, body.note.model_dump(exclude_none=True) if body.note else None, utcnow(),
        settings["callback_due_hours"])
    if result.created:  # issue 6: recovery time for the handler; their team lead is alerted
        recovery.offer(session, result.termination, utcnow(), settings["recovery_minutes"])
    commit_and_dispatch(session)
    session.refresh(result.termination)
    if result.created:
        call = control.get_call(session, call_sid)  # the event's scope (call_flows.live_scope)
        publish(current_app, "call_terminated", call_sid=call_sid, reason=result.termination.reason,
                serious=result.termination.immediate_reason == "threat_of_violence", handler_id=call.handler_id,
                team_id=call.team_id)
    return jsonify(termination_json(result.termination)), 201 if result.created else 200


def warning_json(warning) -> dict:
    return {"id": warning.id, "reason": warning.reason, "detail": warning.detail,
            "created_at": warning.created_at.isoformat(), "platform_status": warning.platform_status}


def termination_json(t) -> dict:
    return {"id": t.id, "reason": t.reason, "immediate_reason": t.immediate_reason,
            "case_reference": t.case_reference, "created_at": t.created_at.isoformat(),
            "platform_status": t.platform_status, "case_note_id": t.case_note_id,
            "incident_id": t.incident_id, "callback_task_id": t.callback_task_id}
