"""Outbox tasks that touch the call platform or notify people. Each is idempotent: it checks the
business state first, so a retry or a duplicate hand-over does no harm."""
from sqlalchemy.orm import Session

from . import settings as org_settings
from . import twiml
from .models import Call, CallbackTask, CallWarning, Termination, User
from .outbox import task

CONFERENCE_EVENTS = "/twilio/voice/conference"


@task("play_warning", urgent=True)
def play_warning(session: Session, ctx, now, warning_id: int) -> None:
    """T1: the caller leaves the conference, hears the warning and rejoins the handler."""
    warning = session.get(CallWarning, warning_id)
    if warning.platform_status == "played":
        return
    call = session.get(Call, warning.call_id)
    platform = ctx.platform
    values = org_settings.load(session)
    platform.redirect_call(session, call.call_sid,
                           twiml.warning(call.call_sid, values, platform.url(CONFERENCE_EVENTS)), now=now)
    warning.platform_status = "played"
    ctx.publish("warning_played", call_sid=call.call_sid, team_id=call.team_id,
                handler_id=call.handler_id)  # the console's feedback


@task("end_call", urgent=True)
def end_call(session: Session, ctx, now, termination_id: int) -> None:
    """T3: the caller hears the final notice and the call ends."""
    termination = session.get(Termination, termination_id)
    if termination.platform_status == "played":
        return
    call = session.get(Call, termination.call_id)
    ctx.platform.redirect_call(session, call.call_sid, twiml.termination(org_settings.load(session)), now=now)
    termination.platform_status = "played"
    ctx.publish("termination_played", call_sid=call.call_sid, team_id=call.team_id,
                handler_id=call.handler_id)  # the console's feedback


@task("connect_handler", urgent=True)
def connect_handler(session: Session, ctx, now, call_id: int, user_id: int) -> None:
    """Ring the handler's own phone (or client) into the caller's conference."""
    call = session.get(Call, call_id)
    user = session.get(User, user_id)
    if call.status in ("completed", "canceled", "failed") or not user.phone:
        return
    ctx.platform.add_participant(session, twiml.conference_name(call.call_sid), user.phone,
                                 ctx.platform.caller_id or call.called or user.phone, now=now)


@task("notify_manager")
def notify_manager(session: Session, ctx, now, task_id: int) -> None:
    """T5: the line manager is told of a new callback task (the queue itself is the durable record).
    The e-mail is its own outbox job, keyed by the task, so it is sent once however often this runs."""
    from .mail import queue_email

    callback = session.get(CallbackTask, task_id)
    manager = session.get(User, callback.manager_id) if callback.manager_id else None
    if manager is None:
        return
    values = org_settings.load(session)
    address = values["staff_email_format"].format(username=manager.username)
    queue_email(session, f"callback-{callback.id}-new-to-{address}", "new_callback", "line_manager", address,
                f"New callback task: case {callback.case_reference}",
                f"A call was ended for the caller's behaviour (case {callback.case_reference}).\n"
                f"Please call the customer back by {callback.due_at:%d %B %Y %H:%M} UTC (T5, M1).\n"
                "Open your callback queue in callguard to claim the task.", now, task_id=callback.id)
    ctx.publish("callback_created", task_id=callback.id, manager_id=manager.id, team_id=callback.team_id)
