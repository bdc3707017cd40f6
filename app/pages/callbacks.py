"""/callbacks: the line manager's queue (M1, M2) as plain server-rendered forms with CSRF tokens.
Each action calls the same service as the JSON API, then returns to the task on the page."""
from flask import flash, redirect, render_template, request, url_for

from call_flows.callbacks import dialling as callback_calls, view as callback_view, work as callback_work
from call_flows.calls import control
from call_flows import settings as org_settings
from call_flows.callbacks.queue import deputising_for
from call_flows.clock import utcnow
from call_flows.events import CallbackTaskChanged
from call_flows.errors import DomainError
from call_flows.labels import label
from call_flows.models import CallbackTask, User
from call_flows.vocabulary import ImmediateReason, Role, WarningReason

from ..api.callback_schemas import CancelIn, DeputyIn
from ..api.schemas import NoteFields, OutcomeIn, TerminationIn, WarningIn
from ..auth import current_staff
from ..db import db_session, unit_of_work
from ..forms import form_body
from . import bp
from .live import page_roles



@bp.get("/callbacks")
@page_roles(Role.LINE_MANAGER)
def callbacks():
    return _queue_page()


def _queue_page(status=200):
    session = db_session()
    user = current_staff()
    settings = org_settings.load(session)
    covering = [m.shown_name for m in deputising_for(session, user)]
    deputy = session.get(User, user.deputy_id) if user.deputy_id else None
    with unit_of_work() as uow:
        rows = callback_view.queue_view(uow.session, user, utcnow(), settings.organisation_name)
        uow.commit()  # R9: the audit rows of the markers shown
    return render_template(
        "callbacks/queue.html", rows=rows,
        closed=callback_view.recently_closed(session, user), choices=callback_view.deputy_choices(session, user),
        deputy=deputy, covering=covering, reasons=WarningReason, immediate_reasons=ImmediateReason,
        max_attempts=settings.callback_max_attempts), status


def _act(task_id, action, message):
    """Run one service call; a refusal is shown on the queue page with the error's own status (e.g.
    409 `call_ended`), never a 500. `message`: the confirmation, or a function of what the action returned."""
    try:
        with unit_of_work() as uow:
            result = action(uow.session, current_staff(), utcnow())
            task = uow.session.get(CallbackTask, task_id) if task_id else None
            uow.record(CallbackTaskChanged(task_id, task.status if task else None, task.team_id if task else None))
            uow.commit()
    except DomainError as exc:
        flash(exc.message, "error")
        return _queue_page(status=exc.status)
    flash(message(result) if callable(message) else message, "ok")
    return redirect(url_for("pages.callbacks") + (f"#task-{task_id}" if task_id else ""))


def _note() -> NoteFields:
    """The case note's fields, posted flat beside the act's own (the API nests them as `note`)."""
    return form_body(NoteFields)


@bp.post("/callbacks/<int:task_id>/claim")
@page_roles(Role.LINE_MANAGER)
def claim_page(task_id):
    idle = org_settings.load(db_session()).claim_idle_minutes
    return _act(task_id, lambda s, u, now: callback_work.claim(s, task_id, u, now, idle), "Task claimed.")


@bp.post("/callbacks/<int:task_id>/release")
@page_roles(Role.LINE_MANAGER)
def release_page(task_id):
    return _act(task_id, lambda s, u, now: callback_work.release(s, task_id, u, now), "Task released to the queue.")


@bp.post("/callbacks/<int:task_id>/dial")
@page_roles(Role.LINE_MANAGER)
def dial_page(task_id):
    return _act(task_id, lambda s, u, now: callback_calls.dial(s, task_id, u, now),
                "Calling your phone now; when you answer you are connected to the customer.")


@bp.post("/callbacks/<int:task_id>/outcome")
@page_roles(Role.LINE_MANAGER)
def outcome_page(task_id):
    def act(session, user, now):
        body = form_body(OutcomeIn, note=_note())
        callback_calls.record_outcome(session, task_id, user, body.outcome, body.note_values(), now,
                                      org_settings.load(session))
        return body.outcome
    return _act(task_id, act, lambda outcome: f"Outcome recorded: {label('outcome', outcome)}.")


@bp.post("/callbacks/<int:task_id>/cancel")
@page_roles(Role.LINE_MANAGER)
def cancel_page(task_id):
    return _act(task_id, lambda s, u, now: callback_work.cancel(s, task_id, u, form_body(CancelIn).reason, now),
                "Task cancelled.")


def _callback_call(session, task_id, user):
    task = callback_work.task_for(session, task_id, user)
    callback_work.claimed_by_me(task, user)
    call = callback_calls.current_call(session, task)
    if call is None:
        raise DomainError("there is no callback under way on this task", code="no_callback")
    return task, call


@bp.post("/callbacks/<int:task_id>/warn")
@page_roles(Role.LINE_MANAGER)
def warn_page(task_id):
    """M2: the handler's warn control, on the callback call."""
    def act(session, user, now):
        body = form_body(WarningIn)
        _, call = _callback_call(session, task_id, user)
        control.warn(session, call.call_sid, user, body.reason, body.detail, now)
    return _act(task_id, act, "Warning played to the customer.")


@bp.post("/callbacks/<int:task_id>/terminate")
@page_roles(Role.LINE_MANAGER)
def terminate_page(task_id):
    """M2: the handler's terminate control (T3: only after a warning, or an immediate reason)."""
    def act(session, user, now):
        body = form_body(TerminationIn, note=_note(), case_reference=None)  # the task's own reference is used
        task, call = _callback_call(session, task_id, user)
        control.terminate(session, call.call_sid, user, body.reason, body.immediate_reason, body.immediate_detail,
                          task.case_reference, body.note_values(), now)
    return _act(task_id, act, "The call was ended. Record the outcome below.")


@bp.post("/callbacks/deputy")
@page_roles(Role.LINE_MANAGER)
def deputy_page():
    if "deputy" not in request.form:  # no choice sent: change nothing (never a silent hand-back)
        flash("Choose a deputy, or Nobody to take your queue back.", "error")
        return redirect(url_for("pages.callbacks"))

    def act(session, user, now):
        deputy = form_body(DeputyIn).deputy
        callback_work.set_deputy(session, user, deputy)
        return deputy
    return _act(None, act, lambda deputy: f"Your queue is now handed to {deputy}." if deputy
                else "You have taken your queue back.")
