"""Domain events: what happened, recorded by a service in the act's transaction.

A service records an event with `record(session, event)`; the unit of work (call_flows/unit_of_work.py)
collects it on commit, writes the outbox jobs that follow from it in the same transaction
(call_flows/follow_ups.py), and after the commit publishes its live event (`live()`: the kind and the
payload the board and consoles read) and runs what follows in a later transaction (the write-up of a
termination, 9.16). So what follows an act depends on the event alone, never on the door (API, page,
Twilio callback, CLI, job) it came through.
"""
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, dataclass_transform

from sqlalchemy.orm import Session

EVENTS_KEY = "domain_events"  # session.info key of the events recorded in the open transaction


@dataclass_transform(frozen_default=True)
@dataclass(frozen=True)
class Event:
    """An event: each subclass is a frozen dataclass of its fields, declared as
    `class CallWarned(Event, kind="call_warned", live_fields=(...))`. `kind` names its live event (None:
    nothing is published) and `live_fields` the fields it carries (default: all of them; the rest are for
    the follow-ups, not the board)."""

    kind: ClassVar[str | None] = None
    live_fields: ClassVar[tuple[str, ...] | None] = None

    def __init_subclass__(cls, kind: str | None = None, live_fields: tuple[str, ...] | None = None) -> None:
        super().__init_subclass__()
        cls.kind, cls.live_fields = kind, live_fields
        dataclass(frozen=True)(cls)

    def live(self) -> dict[str, Any] | None:
        """The live event (`{"kind": ..., **payload}`) or None."""
        if self.kind is None:
            return None
        values = asdict(self)
        return {"kind": self.kind, **{k: values[k] for k in (self.live_fields or tuple(values))}}


class CallRinging(Event, kind="call_ringing"):
    """R1, R10, C3: a new call rang; its flags as the board shows them (the caller's number masked)."""

    call_sid: str
    caller: str | None
    caller_kind: str
    marker: int | None
    signals: Any
    restricted: bool
    at: str
    named_officer_id: int | None
    card: dict[str, Any] | None = None  # the board card (calls/live_card.ringing_card; issue 13 item 4)

    def live(self) -> dict[str, Any] | None:
        """Event.live without asdict's deep copy of the card (issue 13: a sixth of a ring's CPU); the
        event is frozen and its card built for it alone."""
        return {"kind": self.kind, **vars(self)}  # every field, as Event.live gives them (no live_fields)


class CallStatusChanged(Event, kind="call_status"):
    """A call's status moved on (a Twilio status callback, or reconciliation, issue 12)."""

    call_sid: str
    status: str
    handler_id: int | None
    team_id: int | None


class CallAccepted(Event, kind="call_accepted", live_fields=("call_sid", "handler_id", "team_id")):
    """A handler took a ringing call; `dial_handler`: their leg is to be rung (they have a phone)."""

    call_sid: str
    handler_id: int | None
    team_id: int | None
    call_id: int = 0
    dial_handler: bool = False
    at: datetime | None = None


class CallWarned(Event, kind="call_warned", live_fields=("call_sid", "reason", "handler_id", "team_id")):
    """T1: a warning was stored; the caller is to hear it."""

    call_sid: str
    reason: str
    handler_id: int | None
    team_id: int | None
    warning_id: int = 0
    at: datetime | None = None


class CallTerminated(Event, kind="call_terminated",
                     live_fields=("call_sid", "reason", "serious", "handler_id", "team_id")):
    """T3: a call was ended for behaviour; the final notice is to be played, then the write-up
    (T4 case note, I6/I7 incident, T5 callback task, issue 6 recovery time) follows."""

    call_sid: str
    reason: str
    serious: bool
    handler_id: int | None
    team_id: int | None
    termination_id: int = 0
    author_id: int = 0
    fields: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


class CallbackTaskCreated(Event):
    """T5: a line manager's callback task was opened; the manager is told (an email)."""

    task_id: int
    at: datetime | None = None


class CallbackTaskChanged(Event, kind="callback_changed"):
    """M1, M2: a callback task was claimed, released, dialled, closed or handed on."""

    task_id: int | None
    status: str | None = None
    team_id: int | None = None


class CallbackOverdue(Event, kind="callback_overdue"):
    """T5: a callback task went past its due time (call_flows/incidents/deadlines.py)."""

    task_id: int


class IncidentSerious(Event, kind="incident_serious"):
    """I7: an incident was escalated as serious."""

    incident_id: int


class RegisterReminder(Event, kind="register_reminder"):
    """R6: the panel is reminded of a review, letter or meeting due."""

    reminder: str
    entry_id: int


class ActSettled(Event):
    """T1, T3: the job that plays a warning or the final notice settled it (`outcome`: played,
    caller_left or failed); the console's feedback, live kind `<act>_<outcome>` (`warning_played`)."""

    act: str  # "warning" or "termination"
    outcome: str  # a PlayStatus other than pending
    call_sid: str
    team_id: int | None
    handler_id: int | None

    def live(self) -> dict[str, Any] | None:
        return {"kind": f"{self.act}_{self.outcome}", "call_sid": self.call_sid, "team_id": self.team_id,
                "handler_id": self.handler_id}


class TeamLeadAlerted(Event, kind="team_lead_alert"):
    """Issue 6: a handler's team lead is alerted that a call of theirs was ended for behaviour
    (`ends_at`: the end of the handler's recovery time, ISO 8601 UTC)."""

    user_id: int
    username: str
    team_id: int | None
    lead_id: int | None
    lead: str | None
    ends_at: str


class LineManagerNotified(Event, kind="callback_created"):
    """T5: the line manager was told of a new callback task (live kind `callback_created`)."""

    task_id: int
    manager_id: int
    team_id: int | None


class CallbackDialled(Event, kind="callback_dialled"):
    """M1: the platform is ringing the manager's phone for a callback call."""

    task_id: int
    call_sid: str


def record(session: Session, *events: Event) -> None:
    """Record `events` in the session's open transaction (the unit of work collects them on commit)."""
    session.info.setdefault(EVENTS_KEY, []).extend(events)


def take(session: Session) -> list[Event]:
    """The events recorded on `session` since the last call (and forgets them)."""
    recorded: list[Event] = session.info.pop(EVENTS_KEY, [])
    return recorded
