"""Outbox tasks that touch the call platform or notify people. Each is idempotent: it checks the
business state first, so a retry or a duplicate hand-over does no harm."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import settings as org_settings
from . import twiml, whisper
from .control import heard_a_warning
from .models import Call, CallbackTask, CallWarning, Termination, User
from .outbox import task
from .platform import CallNotInProgress
from .status import FINAL

CONFERENCE_EVENTS = "/twilio/voice/conference"


@task("play_warning")
def play_warning(session: Session, ctx, now, warning_id: int) -> None:
    """T1: the caller leaves the conference, hears the warning and rejoins the handler.
    A warning stored while the call was live but run only after the call was over (hung up, or the
    final notice already sent, e.g. jobs delayed by an outage) plays nothing: it is marked
    `caller_left` and never recorded as heard."""
    warning = session.get(CallWarning, warning_id)
    if warning.platform_status in ("played", "caller_left"):
        return
    call = session.get(Call, warning.call_id)
    notice_sent = session.scalar(select(Termination.id).where(
        Termination.call_id == call.id, Termination.platform_status.in_(("played", "caller_left"))))
    if call.status in FINAL or call.ended_at is not None or notice_sent is not None:
        warning.platform_status = "caller_left"
        return
    platform = ctx.platform
    values = org_settings.load(session)
    try:
        platform.redirect_call(session, call.call_sid,
                               twiml.warning(call.call_sid, values, platform.url(CONFERENCE_EVENTS)), now=now)
    except CallNotInProgress:  # Twilio 21220: the caller hung up meanwhile
        warning.platform_status = "caller_left"
        return
    warning.platform_status = "played"
    ctx.publish("warning_played", call_sid=call.call_sid, team_id=call.team_id)  # the console's feedback


@task("end_call")
def end_call(session: Session, ctx, now, termination_id: int) -> None:
    """T3: the caller hears the final notice (the one for a warned caller, or the immediate one when
    they heard no warning) and the call ends; `caller_left` when they had already hung up."""
    termination = session.get(Termination, termination_id)
    if termination.platform_status in ("played", "caller_left"):
        return
    call = session.get(Call, termination.call_id)
    notice = twiml.termination(org_settings.load(session), warned=heard_a_warning(session, call.id))
    try:
        ctx.platform.redirect_call(session, call.call_sid, notice, now=now)
    except CallNotInProgress:
        termination.platform_status = "caller_left"
        return
    termination.platform_status = "played"
    ctx.publish("termination_played", call_sid=call.call_sid, team_id=call.team_id)  # the console's feedback


@task("connect_handler")
def connect_handler(session: Session, ctx, now, call_id: int, user_id: int) -> None:
    """Ring the handler's own phone (or client) into the caller's conference. 14.10: when the handler
    is to hear a whisper, their leg is a call whose answer URL speaks it before joining the conference."""
    call = session.get(Call, call_id)
    user = session.get(User, user_id)
    if call.status in ("completed", "canceled", "failed") or not user.phone:
        return
    from_ = ctx.platform.caller_id or call.called or user.phone
    if whisper.for_call(session, call, now, org_settings.load(session)):
        ctx.platform.place_call(session, user.phone, from_, None, now=now,
                                url=ctx.platform.url(whisper.WHISPER_PATH + call.call_sid))
        return
    ctx.platform.add_participant(session, twiml.conference_name(call.call_sid), user.phone, from_, now=now)


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
