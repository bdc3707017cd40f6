"""Working a callback task (M1, M2): claim, release, dial, outcome, cancel, reassign, deputy."""
from flask import jsonify

from call_flows.callbacks import dialling as callback_calls, work as callback_work
from call_flows import settings as org_settings
from call_flows.callbacks.queue import task_json
from call_flows.clock import utcnow
from call_flows.events import CallbackTaskChanged

from ..auth import current_staff, roles_required
from ..db import db_session, unit_of_work
from . import bp
from .callback_schemas import CancelIn, DeputyIn, ReassignIn
from .errors import json_body
from .schemas import OutcomeIn


def _done(task, status=200, **extra):
    uow = unit_of_work()
    uow.record(CallbackTaskChanged(task.id, task.status, task.team_id))
    uow.commit()
    uow.session.refresh(task)
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
    return _done(task, 202, call_sid=call.call_sid, script=script)


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
    unit_of_work().commit()
    return jsonify({"deputy": deputy.username if deputy else None})
