"""Working a callback task (M1, M2): claim, release, dial, outcome, cancel, reassign, deputy."""
from flask import current_app, jsonify

from call_flows.callbacks import dialling as callback_calls, work as callback_work
from call_flows import settings as org_settings
from call_flows.callbacks.queue import task_json
from call_flows.clock import utcnow

from ..auth import current_staff, roles_required
from ..db import db_session
from ..events import publish
from ..jobs import commit_and_dispatch
from . import bp
from .callback_schemas import CancelIn, DeputyIn, ReassignIn
from .errors import json_body
from .schemas import OutcomeIn


def _done(task, status=200, **extra):
    session = db_session()
    commit_and_dispatch(session)
    session.refresh(task)
    publish(current_app, "callback_changed", task_id=task.id, status=task.status, team_id=task.team_id)
    return jsonify({**task_json(task, utcnow()), **extra}), status


@bp.post("/callbacks/<int:task_id>/claim")
@roles_required("line_manager")
def claim_callback(task_id):
    session = db_session()
    idle = org_settings.load(session)["claim_idle_minutes"]
    return _done(callback_work.claim(session, task_id, current_staff(), utcnow(), idle))


@bp.post("/callbacks/<int:task_id>/release")
@roles_required("line_manager", "admin")
def release_callback(task_id):
    return _done(callback_work.release(db_session(), task_id, current_staff(), utcnow()))


@bp.post("/callbacks/<int:task_id>/dial")
@roles_required("line_manager")
def dial_callback(task_id):
    session = db_session()
    user = current_staff()
    task, call = callback_calls.dial(session, task_id, user, utcnow())
    script = callback_calls.script(user, org_settings.load(session)["organisation_name"])
    response, status = _done(task, 202, script=script)
    session.refresh(call)  # after the hand-over: a placed call carries the platform's CallSid (callbacks.legs)
    return jsonify({**response.get_json(), "call_sid": call.call_sid}), status


@bp.post("/callbacks/<int:task_id>/outcome")
@roles_required("line_manager")
def callback_outcome(task_id):
    body = OutcomeIn.model_validate(json_body())
    session = db_session()
    task = callback_calls.record_outcome(
        session, task_id, current_staff(), body.outcome, body.note.model_dump(exclude_none=True) if body.note else None,
        utcnow(), org_settings.load(session))
    return _done(task)


@bp.post("/callbacks/<int:task_id>/cancel")
@roles_required("line_manager", "admin")
def cancel_callback(task_id):
    body = CancelIn.model_validate(json_body())
    return _done(callback_work.cancel(db_session(), task_id, current_staff(), body.reason, utcnow()))


@bp.post("/callbacks/<int:task_id>/reassign")
@roles_required("admin")
def reassign_callback(task_id):
    body = ReassignIn.model_validate(json_body())
    return _done(callback_work.reassign(db_session(), task_id, current_staff(), body.manager, utcnow()))


@bp.put("/callbacks/deputy")
@roles_required("line_manager")
def set_deputy():
    body = DeputyIn.model_validate(json_body())
    session = db_session()
    deputy = callback_work.set_deputy(session, current_staff(), body.deputy)
    session.commit()
    return jsonify({"deputy": deputy.username if deputy else None})
