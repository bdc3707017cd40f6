"""Live-call controls: accept, warn (T1), need (T2), terminate (T3-T5)."""
from flask import current_app, jsonify

from call_flows.calls import control
from call_flows.calls.detail import call_detail
from call_flows.calls.history import history
from call_flows.clock import utcnow
from call_flows.vocabulary import CALL_ROLES, Role

from ..auth import current_staff, roles_required
from ..db import db_session, unit_of_work
from ..forms import query_args
from ..openapi import operation
from . import bp, shapes
from .call_schemas import CallHistoryOut, CallOut, CallSearch
from .schemas import NeedIn, TerminationIn, WarningIn

CALL_ENDED = "call_ended: the call has ended or was terminated"
CALL_ACTORS = ("the call's handler, or a supervisor of its team (else 404; 409 not_answered on a call nobody "
               "has taken)")


def call_json(call) -> dict:
    return {"call_sid": call.call_sid, "status": call.status, "caller": call.caller, "caller_kind": call.caller_kind,
            "handler_id": call.handler_id, "started_at": call.started_at.isoformat(), "needs_note": call.needs_note}


@bp.get("/calls")
@roles_required(Role.LINE_MANAGER, Role.SUPERVISOR, Role.ADMIN)
@operation("Call history and search, newest first, a page of 25 at a time (R9: their teams)",
           responses={"200": "a page of calls", "400": "invalid_phone; invalid_input (a date or page)",
           "403": "forbidden (another role; a name search without a register role)", "404": "a team you may not see"},
           out=CallHistoryOut, query=CallSearch)
def list_calls():
    """Call history (CONTRACT): the caller's teams' calls, newest first, a page at a time."""
    search = query_args(CallSearch)
    with unit_of_work() as uow:
        found = history(uow.session, current_staff(), search, utcnow(),
                        current_app.config.get("DEFAULT_REGION", "GB"))
        uow.commit()  # a register-name search is audited (R9)
    return jsonify(CallHistoryOut.model_validate(shapes.history_json(found)).model_dump(mode="json"))


@bp.get("/calls/<call_sid>")
@roles_required()
@operation("One call: caller, times, handler, flags at ring time, warnings and termination with what the caller's leg "
           "did (platform_status)", responses={"200": "the call", "404": "no such call you may read"}, out=CallOut,
           who="the call's handler, its team's line managers and supervisors, admin (anyone else: 404)")
def get_call(call_sid):
    """The call (CONTRACT): its handler, its team's line managers and supervisors, admins; else 404."""
    return jsonify(CallOut.model_validate(shapes.call_json(call_detail(db_session(), call_sid, current_staff()))).model_dump(mode="json"))


@bp.post("/calls/<call_sid>/accept")
@roles_required(Role.CALL_HANDLER, Role.LINE_MANAGER)
@operation("Take a ringing call", responses={"200": "the call",
           "409": CALL_ENDED + "; already_accepted by another handler"})
def accept_call(call_sid):
    with unit_of_work() as uow:
        call = control.accept(uow.session, call_sid, current_staff(), utcnow())
        uow.commit()
    return jsonify(call_json(call))


@bp.post("/calls/<call_sid>/warnings")
@roles_required(*CALL_ROLES)
@operation("Warn the caller (T1)", WarningIn, {"201": "the warning", "409": CALL_ENDED}, who=CALL_ACTORS)
def warn_caller(call_sid, body: WarningIn):
    with unit_of_work() as uow:
        warning = control.warn(uow.session, call_sid, current_staff(), body.reason, body.detail, utcnow())
        answer = warning_json(warning)  # read before commit (9.16)
        uow.commit()
        return jsonify(_ran_inline(uow.session, warning, warning_json) or answer), 201


@bp.post("/calls/<call_sid>/need")
@roles_required(*CALL_ROLES)
@operation("Record that a disability or need may be involved (T2)", NeedIn, {"200": "the call", "409": CALL_ENDED},
           who=CALL_ACTORS)
def note_need(call_sid, body: NeedIn):
    with unit_of_work() as uow:
        call = control.note_need(uow.session, call_sid, current_staff(), body.need)
        uow.commit()
    return jsonify(call_json(call))


@bp.post("/calls/<call_sid>/termination")
@roles_required(*CALL_ROLES)
@operation("End the call after a warning (T3-T5)", TerminationIn, {"201": "the termination",
           "200": "the same termination, repeated",
           "409": "warning_required (T3); " + CALL_ENDED + " (or already terminated with other details)"},
           who=CALL_ACTORS)
def terminate_call(call_sid, body: TerminationIn):
    with unit_of_work() as uow:
        # 9.16: the commit hands the final notice over before the case note, incident and callback task
        result = control.terminate(
            uow.session, call_sid, current_staff(), body.reason, body.immediate_reason, body.immediate_detail,
            body.case_reference, body.note_values(), utcnow())
        uow.commit()
        answer = termination_json(result.termination)
        return (jsonify(_ran_inline(uow.session, result.termination, termination_json) or answer),
                201 if result.created else 200)


def _ran_inline(session, act, to_json) -> dict | None:
    """The embedded default ran the act's job in this process during the hand-over: answer with
    what it recorded (e.g. `played`). With a queue the answer is the one read before commit."""
    if current_app.extensions["queue"] is not None:
        return None
    session.refresh(act)
    return to_json(act)


def warning_json(warning) -> dict:
    return {"id": warning.id, "reason": warning.reason, "detail": warning.detail,
            "created_at": warning.created_at.isoformat(), "platform_status": warning.platform_status}


def termination_json(t) -> dict:
    return {"id": t.id, "reason": t.reason, "immediate_reason": t.immediate_reason,
            "case_reference": t.case_reference, "created_at": t.created_at.isoformat(),
            "platform_status": t.platform_status, "case_note_id": t.case_note_id,
            "incident_id": t.incident_id, "callback_task_id": t.callback_task_id}
