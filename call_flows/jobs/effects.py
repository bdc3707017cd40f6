"""Outbox tasks that touch the call platform or notify people. Each is idempotent: it checks the
business state first, so a retry or a duplicate hand-over does no harm.

`platform_status` of a warning or termination (CONTRACT): `pending` until the job that redirects the
caller's leg settles it as `played`, `caller_left` (the caller had already hung up: Twilio 21220 or
20404, nothing to play, not retried) or `failed` (the platform refused, or every retry failed)."""

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows import settings as org_settings
from call_flows.autocommit import autocommitted
from call_flows.calls import twiml, whisper
from call_flows.calls.control import heard_a_warning_on
from call_flows.clock import as_utc
from call_flows.events import ActSettled, LineManagerNotified, record
from call_flows.models import Call, CallbackTask, CallWarning, Termination, User
from call_flows.jobs.outbox import UNCONFIRMED, task
from call_flows.platform.faults import CallerGone
from call_flows import logs
from call_flows.vocabulary import ENDED, REACHED, SETTLED, PlayStatus, Recipient

if TYPE_CHECKING:  # the hand-over imports the tasks' modules through the outbox
    from call_flows.jobs.handover import JobContext

CONFERENCE_EVENTS = "/twilio/voice/conference"
log = logs.get_logger(__name__)


Act = CallWarning | Termination


def _settle(session: Session, call: Call, act: Act, kind: str, outcome: PlayStatus) -> None:
    """Record what became of `act` (a warning or a termination) and the event the console reads
    (`<kind>_<outcome>`, published once the job's transaction commits)."""
    act.platform_status = outcome
    record(session, ActSettled(kind, outcome, call.call_sid, call.team_id, call.handler_id))


def _redirect_caller(session: Session, ctx: "JobContext", now: datetime, act: Act, kind: str, body: str) -> None:
    """Play `body` on the caller's leg and record what became of it on `act`: `played`, or
    `caller_left` when the caller had gone."""
    call = session.get_one(Call, act.call_id)
    if session.info.get(UNCONFIRMED) and _earlier_attempt_settles(session, ctx, call, act, kind):
        return
    try:
        ctx.platform.redirect_call(session, call.call_sid, body, now=now)
    except CallerGone:  # terminal: retrying cannot reach a caller who has gone
        _settle(session, call, act, kind, PlayStatus.CALLER_LEFT)  # the call's own end comes with Twilio's callback
        return
    _settle(session, call, act, kind, PlayStatus.PLAYED)


def _earlier_attempt_settles(session: Session, ctx: "JobContext", call: Call, act: Act, kind: str) -> bool:
    """An earlier attempt's outcome is unknown (its worker died waiting on the platform, or its
    request timed out or lost its connection once sent), so its redirect may have reached the
    caller. The caller hears each act at most once (issue 12 fault 2), and the record says what
    happened: ask the platform for the call (GET /Calls/{CallSid}) before repeating.
    - Over: a termination is `played` (the call ended, as the notice ends it); a warning `caller_left`.
    - In progress and changed by the platform since the earlier attempt began (Twilio's
      `date_updated`, to the second): that redirect landed, the act is `played`, not repeated.
    - In progress and unchanged since: it never landed; returns False and the act is sent again."""
    since = as_utc(session.info[UNCONFIRMED]).replace(microsecond=0)
    on_platform = ctx.platform.call_record(session, call.call_sid)
    if on_platform.status in ENDED:
        outcome = PlayStatus.PLAYED if kind == "termination" else PlayStatus.CALLER_LEFT
    elif on_platform.updated_at is not None and as_utc(on_platform.updated_at) >= since:
        outcome = PlayStatus.PLAYED
    else:
        log.info("unconfirmed_attempt_repeated", kind=kind, id=act.id, call_state=on_platform.status)
        return False
    log.warning("unconfirmed_attempt_settled", kind=kind, id=act.id, call_state=on_platform.status, outcome=outcome)
    _settle(session, call, act, kind, outcome)
    return True


def _gave_up(model: type[Act], kind: str) -> Callable[..., None]:
    """on_give_up hook: the platform refused, or every retry failed: the act is `failed`."""

    def hook(session: Session, ctx: "JobContext", now: datetime, error: Exception, **args: Any) -> None:
        act = cast(Act, session.get_one(model, args[f"{kind}_id"]))
        if act.platform_status not in SETTLED:
            _settle(session, session.get_one(Call, act.call_id), act, kind, PlayStatus.FAILED)

    return hook


@task(urgent=True, on_give_up=_gave_up(CallWarning, "warning"))
def play_warning(session: Session, ctx: "JobContext", now: datetime, warning_id: int) -> None:
    """T1: the caller leaves the conference, hears the warning and rejoins the handler.
    A warning stored while the call was live but run only after the call was over (hung up, or the
    final notice already sent, e.g. jobs delayed by an outage) plays nothing: it is marked
    `caller_left` and never recorded as heard."""
    notice_sent = (select(Termination.id).where(Termination.call_id == Call.id, Termination.platform_status.in_(REACHED))
                   .limit(1).scalar_subquery())
    with autocommitted(session):  # one round trip on the press's path, no BEGIN before it (9.16)
        warning, call, notice = session.execute(
            select(CallWarning, Call, notice_sent).join(Call, Call.id == CallWarning.call_id)
            .where(CallWarning.id == warning_id)).one()
    if warning.platform_status in SETTLED:
        return
    if call.status in ENDED or call.ended_at is not None or notice is not None:
        warning.platform_status = PlayStatus.CALLER_LEFT  # the call is over: nothing is played after it (T1, 9.3)
        return
    body = twiml.warning(call.call_sid, org_settings.load(session), ctx.platform.url(CONFERENCE_EVENTS))
    _redirect_caller(session, ctx, now, warning, "warning", body)


@task(urgent=True, on_give_up=_gave_up(Termination, "termination"))
def end_call(session: Session, ctx: "JobContext", now: datetime, termination_id: int) -> None:
    """T3: the caller hears the final notice (the one for a warned caller, or the immediate one when
    they heard no warning) and the call ends; `caller_left` when they had already hung up."""
    with autocommitted(session):  # the call comes along for _redirect_caller: one round trip, no BEGIN (9.16)
        termination, _call, warned = session.execute(
            select(Termination, Call, heard_a_warning_on(Call.id)).join(Call, Call.id == Termination.call_id)
            .where(Termination.id == termination_id)).one()
    if termination.platform_status in SETTLED:
        return
    # T3: "you were warned" only when a warning was really played; else the immediate notice
    notice = twiml.termination(org_settings.load(session), warned=warned)
    _redirect_caller(session, ctx, now, termination, "termination", notice)


@task(urgent=True)
def connect_handler(session: Session, ctx: "JobContext", now: datetime, call_id: int, user_id: int) -> None:
    """Ring the handler's own phone (or client) into the caller's conference. 14.10: when the handler
    is to hear a whisper, their leg is a call whose answer URL speaks it before joining the conference."""
    call = session.get_one(Call, call_id)
    user = session.get_one(User, user_id)
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
def notify_manager(session: Session, ctx: "JobContext", now: datetime, task_id: int) -> None:
    """T5: the line manager is told of a new callback task (the queue itself is the durable record).
    The e-mail is its own outbox job, keyed by the task, so it is sent once however often this runs."""
    from call_flows.jobs.mail import queue_email

    callback = session.get_one(CallbackTask, task_id)
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
    record(session, LineManagerNotified(callback.id, manager.id, callback.team_id))
