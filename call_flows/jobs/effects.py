"""Outbox tasks that touch the call platform or notify people. Each is idempotent: it checks the
business state first, so a retry or a duplicate hand-over does no harm.

`platform_status` of a warning or termination (CONTRACT): `pending` until the job that redirects the
caller's leg settles it as `played`, `caller_left` (the caller had already hung up: Twilio 21220 or
20404, nothing to play, not retried) or `failed` (the platform refused, or every retry failed)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows import settings as org_settings
from call_flows.calls import twiml, whisper
from call_flows.calls.control import heard_a_warning
from call_flows.clock import as_utc
from call_flows.models import Call, CallbackTask, CallWarning, Termination, User
from call_flows.jobs.outbox import UNCONFIRMED, task
from call_flows.platform.faults import CallerGone
from call_flows import logs
from call_flows.vocabulary import ENDED, REACHED, SETTLED, PlayStatus, Recipient

CONFERENCE_EVENTS = "/twilio/voice/conference"
log = logs.get_logger(__name__)


def _redirect_caller(session: Session, ctx, now, act, kind: str, body: str) -> None:
    """Play `body` on the caller's leg and record what became of it on `act` (a warning or a
    termination); publish `<kind>_played` or `<kind>_caller_left` for the console."""
    call = session.get(Call, act.call_id)
    if session.info.get(UNCONFIRMED) and _earlier_attempt_settles(session, ctx, call, act, kind):
        return
    try:
        ctx.platform.redirect_call(session, call.call_sid, body, now=now)
    except CallerGone:  # terminal: retrying cannot reach a caller who has gone
        act.platform_status = PlayStatus.CALLER_LEFT  # the call's own end comes with Twilio's status callback
        ctx.publish(f"{kind}_caller_left", call_sid=call.call_sid, team_id=call.team_id, handler_id=call.handler_id)
        return
    act.platform_status = PlayStatus.PLAYED
    ctx.publish(f"{kind}_played", call_sid=call.call_sid, team_id=call.team_id,
                handler_id=call.handler_id)  # the console's feedback


def _earlier_attempt_settles(session: Session, ctx, call, act, kind: str) -> bool:
    """An earlier attempt's outcome is unknown (its worker died waiting on the platform, or its
    request timed out or lost its connection once sent), so its redirect may have reached the
    caller. The caller hears each act at most once (issue 12 fault 2), and the record says what
    happened: ask the platform for the call (GET /Calls/{CallSid}) before repeating.
    - Over: a termination is `played` (the call ended, as the notice ends it); a warning `caller_left`.
    - In progress and changed by the platform since the earlier attempt began (Twilio's
      `date_updated`, to the second): that redirect landed, the act is `played`, not repeated.
    - In progress and unchanged since: it never landed; returns False and the act is sent again."""
    since = as_utc(session.info[UNCONFIRMED]).replace(microsecond=0)
    record = ctx.platform.call_record(session, call.call_sid)
    if record.status in ENDED:
        act.platform_status = PlayStatus.PLAYED if kind == "termination" else PlayStatus.CALLER_LEFT
    elif record.updated_at is not None and as_utc(record.updated_at) >= since:
        act.platform_status = PlayStatus.PLAYED
    else:
        log.info("unconfirmed_attempt_repeated", kind=kind, id=act.id, call_state=record.status)
        return False
    log.warning("unconfirmed_attempt_settled", kind=kind, id=act.id, call_state=record.status,
                outcome=act.platform_status)
    ctx.publish(f"{kind}_{act.platform_status}", call_sid=call.call_sid, team_id=call.team_id,
                handler_id=call.handler_id)
    return True


def _gave_up(model, kind: str):
    """on_give_up hook: the platform refused, or every retry failed: the act is `failed`."""

    def hook(session: Session, ctx, now, error, **args) -> None:
        act = session.get(model, args[f"{kind}_id"])
        if act.platform_status not in SETTLED:
            act.platform_status = PlayStatus.FAILED
            call = session.get(Call, act.call_id)
            ctx.publish(f"{kind}_failed", call_sid=call.call_sid, team_id=call.team_id, handler_id=call.handler_id)

    return hook


@task(urgent=True, on_give_up=_gave_up(CallWarning, "warning"))
def play_warning(session: Session, ctx, now, warning_id: int) -> None:
    """T1: the caller leaves the conference, hears the warning and rejoins the handler.
    A warning stored while the call was live but run only after the call was over (hung up, or the
    final notice already sent, e.g. jobs delayed by an outage) plays nothing: it is marked
    `caller_left` and never recorded as heard."""
    warning = session.get(CallWarning, warning_id)
    if warning.platform_status in SETTLED:
        return
    call = session.get(Call, warning.call_id)
    notice_sent = session.scalar(select(Termination.id).where(
        Termination.call_id == call.id, Termination.platform_status.in_(REACHED)))
    if call.status in ENDED or call.ended_at is not None or notice_sent is not None:
        warning.platform_status = PlayStatus.CALLER_LEFT  # the call is over: nothing is played after it (T1, 9.3)
        return
    body = twiml.warning(call.call_sid, org_settings.load(session), ctx.platform.url(CONFERENCE_EVENTS))
    _redirect_caller(session, ctx, now, warning, "warning", body)


@task(urgent=True, on_give_up=_gave_up(Termination, "termination"))
def end_call(session: Session, ctx, now, termination_id: int) -> None:
    """T3: the caller hears the final notice (the one for a warned caller, or the immediate one when
    they heard no warning) and the call ends; `caller_left` when they had already hung up."""
    termination = session.get(Termination, termination_id)
    if termination.platform_status in SETTLED:
        return
    # T3: "you were warned" only when a warning was really played; else the immediate notice
    notice = twiml.termination(org_settings.load(session), warned=heard_a_warning(session, termination.call_id))
    _redirect_caller(session, ctx, now, termination, "termination", notice)


@task(urgent=True)
def connect_handler(session: Session, ctx, now, call_id: int, user_id: int) -> None:
    """Ring the handler's own phone (or client) into the caller's conference. 14.10: when the handler
    is to hear a whisper, their leg is a call whose answer URL speaks it before joining the conference."""
    call = session.get(Call, call_id)
    user = session.get(User, user_id)
    if call.status in ENDED or not user.phone:
        return
    from_ = ctx.platform.caller_id or call.called or user.phone
    try:
        if whisper.for_call(session, call, now, org_settings.load(session)):  # 14.10: the handler hears it first
            ctx.platform.place_call(session, user.phone, from_, None, now=now,
                                    url=ctx.platform.url(whisper.WHISPER_PATH + call.call_sid))
            return
        ctx.platform.add_participant(session, twiml.conference_name(call.call_sid), user.phone, from_, now=now)
    except CallerGone:  # the caller hung up before the handler was rung: their conference is gone
        return


@task
def notify_manager(session: Session, ctx, now, task_id: int) -> None:
    """T5: the line manager is told of a new callback task (the queue itself is the durable record).
    The e-mail is its own outbox job, keyed by the task, so it is sent once however often this runs."""
    from call_flows.jobs.mail import queue_email

    callback = session.get(CallbackTask, task_id)
    manager = session.get(User, callback.manager_id) if callback.manager_id else None
    if manager is None:
        return
    values = org_settings.load(session)
    handler = session.get(User, callback.handler_id) if callback.handler_id else None
    address = values.staff_email_format.format(username=manager.username)
    queue_email(session, f"callback-{callback.id}-new-to-{address}", "new_callback", Recipient.LINE_MANAGER, address,
                f"New callback task: case {callback.case_reference}",
                f"A call was ended for the caller's behaviour (case {callback.case_reference}).\n"
                f"Caller: {callback.caller or 'number withheld'}. Handler: {handler.username if handler else 'unknown'}.\n"
                f"Please call the customer back by {callback.due_at:%d %B %Y %H:%M} UTC (T5, M1).\n"
                "Open your callback queue in callguard to claim the task.", now, task_id=callback.id,
                link=f"/callbacks#task-{callback.id}")
    ctx.publish("callback_created", task_id=callback.id, manager_id=manager.id, team_id=callback.team_id)
