"""Working a callback task (M1, M2): claim, release, dial, outcome, cancel, reassign, deputy."""
from flask import jsonify

from call_flows.callbacks import dialling as callback_calls, work as callback_work
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.vocabulary import Role
from call_flows.events import CallbackTaskChanged

from ..auth import current_staff, roles_required
from ..db import unit_of_work
from ..openapi import operation
from . import bp
from .callback_schemas import CancelIn, DeputyIn, ReassignIn
from .schemas import OutcomeIn
from .shapes import task_json


def _changed(uow, task) -> None:
    uow.record(CallbackTaskChanged(task.id, task.status, task.team_id))


def _done(act, status=200, **extra):
    """Run `act(session)` (a service call on a task, returning the task) in a unit of work that also
    records CallbackTaskChanged, commit, and answer the task as committed (and handed over)."""
    with unit_of_work() as uow:
        task = act(uow.session)
        _changed(uow, task)
        uow.commit()
        uow.session.refresh(task)
    return jsonify({**task_json(task, utcnow()), **extra}), status


@bp.post("/callbacks/<int:task_id>/claim")
@roles_required(Role.LINE_MANAGER)
@operation("Claim an open callback task (exactly one of concurrent claims wins)", responses={"200": "the task",
           "409": "already_claimed", "404": "not in your teams"})
def claim_callback(task_id):
    return _done(lambda s: callback_work.claim(s, task_id, current_staff(), utcnow(),
                                               org_settings.load(s).claim_idle_minutes))


@bp.post("/callbacks/<int:task_id>/release")
@roles_required(Role.LINE_MANAGER, Role.ADMIN)
@operation("Hand a claimed task back to the queue, in its old place", who="the claimant, admin")
def release_callback(task_id):
    return _done(lambda s: callback_work.release(s, task_id, current_staff(), utcnow()))


@bp.post("/callbacks/<int:task_id>/dial")
@roles_required(Role.LINE_MANAGER)
@operation("Call the customer back: the manager's phone first, then the customer (M1)",
           responses={"202": "the task, the callback's call_sid and the M1 script"}, who="the claimant")
def dial_callback(task_id):
    user = current_staff()
    with unit_of_work() as uow:
        task, call = callback_calls.dial(uow.session, task_id, user, utcnow())
        script = callback_calls.script(user, org_settings.load(uow.session).organisation_name)
        _changed(uow, task)
        uow.commit()
        uow.session.refresh(task)
        uow.session.refresh(call)  # after the hand-over: a placed call carries the platform's CallSid (callbacks.legs)
    return jsonify({**task_json(task, utcnow()), "script": script, "call_sid": call.call_sid}), 202


@bp.post("/callbacks/<int:task_id>/outcome")
@roles_required(Role.LINE_MANAGER)
@operation("Record the outcome and its case note (M1, M2; no_answer retries)", OutcomeIn, {"200": "the task",
           "409": "no_dial_attempt: no_answer needs a call back first (dial)"}, who="the claimant")
def callback_outcome(task_id, body: OutcomeIn):
    return _done(lambda s: callback_calls.record_outcome(
        s, task_id, current_staff(), body.outcome, body.note_values(), utcnow(), org_settings.load(s)))


@bp.post("/callbacks/<int:task_id>/cancel")
@roles_required(Role.LINE_MANAGER, Role.ADMIN)
@operation("Cancel one task with a reason", CancelIn)
def cancel_callback(task_id, body: CancelIn):
    return _done(lambda s: callback_work.cancel(s, task_id, current_staff(), body.reason, utcnow()))


@bp.post("/callbacks/<int:task_id>/reassign")
@roles_required(Role.ADMIN)
@operation("Give a task to another line manager", ReassignIn)
def reassign_callback(task_id, body: ReassignIn):
    return _done(lambda s: callback_work.reassign(s, task_id, current_staff(), body.manager, utcnow()))


@bp.put("/callbacks/deputy")
@roles_required(Role.LINE_MANAGER)
@operation("Hand your queue to a deputy while away (null takes it back)", DeputyIn)
def set_deputy(body: DeputyIn):
    with unit_of_work() as uow:
        deputy = callback_work.set_deputy(uow.session, current_staff(), body.deputy)
        uow.commit()
    return jsonify({"deputy": deputy.username if deputy else None})
