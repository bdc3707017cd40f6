"""A call's timeline (CONTRACT page `/calls/<CallSid>`, issue 14.1): what happened, in order.

It rang (with the caller's flags as they were at ring time: R1 marker, R10/C2 signals, C3
restriction), who answered, each warning (T1: reason, what the caller was played, when, and what
became of it on the caller's leg), the termination (T3: the final notice), the end, the case notes
(T4, M1), the incident record (I6) and the callback task (T5) with its attempts and outcome (M1, M2).
Read by the same people as the call itself (call_detail.may_read), else NotFound.
"""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from call_flows.labels import MARKERS, PLAY_STATUSES as PLAYED
from call_flows.calls.detail import may_read
from call_flows.calls.pending import find_call
from call_flows.clock import as_utc
from call_flows.errors import NotFound
from call_flows.models import Call, CallbackTask, CallWarning, CaseNote, Incident, Termination, User
from call_flows.staff.people import shown_names
from call_flows.register.shown import markers_shown
from call_flows.calls.twiml import final_notice
from call_flows.vocabulary import PlayStatus
from call_flows.settings import OrgSettings



@dataclass
class Step:
    """One line of the timeline: `at` (UTC, or None when not yet), `kind`, a `title` and detail lines."""

    at: datetime | None
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)
    link: str | None = None


def _name(names: dict[int, str], user_id: int | None, unknown: str = "unknown") -> str:
    """The name shown for `user_id` (`unknown` for none or a user no longer known)."""
    return names.get(user_id, unknown) if user_id is not None else unknown


def _spoken(text: str, recording: str) -> str:
    return f"the recording {recording}" if recording else f"“{text}”"


def _ring_step(call: Call) -> Step:
    flags = [f"Register marker {call.ring_marker}: {MARKERS.get(call.ring_marker, '')}"] if call.ring_marker else []
    flags += [f"Signal: {signal.replace('_', ' ')}" for signal in call.ring_signals or []]
    flags += ["Contact restriction in force"] if call.ring_restricted else []
    caller = call.caller or f"({call.caller_kind})"
    return Step(call.started_at, "rang", f"Rang from {caller}", flags or ["No flags at ring time"])


def _warning_steps(warnings: list[CallWarning], names: dict[int, str], settings: OrgSettings) -> list[Step]:
    played = _spoken(settings.warning_message, settings.warning_recording_url)
    return [Step(w.created_at, "warning", f"Warning given: {w.reason.replace('_', ' ')}",
                 [f"By {_name(names, w.given_by_id)}", *([f"Detail: {w.detail}"] if w.detail else []),
                  f"Played: {played}", f"Platform: {w.platform_status} ({PLAYED.get(w.platform_status, '')})"])
            for w in warnings]


def _termination_step(t: Termination, names: dict[int, str], settings: OrgSettings, warned: bool) -> Step:
    text, recording = final_notice(settings, warned)
    lines = [f"By {_name(names, t.terminated_by_id)}", f"Case reference: {t.case_reference}"]
    if t.immediate_reason:
        lines.append(f"Immediate reason: {t.immediate_reason.replace('_', ' ')}"
                     + (f" ({t.immediate_detail})" if t.immediate_detail else ""))
    lines += [f"Final notice: {_spoken(text, recording)}",
              f"Platform: {t.platform_status} ({PLAYED.get(t.platform_status, '')})"]
    return Step(t.created_at, "termination", f"Call ended for behaviour: {t.reason.replace('_', ' ')}", lines)


def _note_step(note: CaseNote, names: dict[int, str]) -> Step:
    fields = [f"{key.replace('_', ' ').capitalize()}: {value}" for key, value in (note.fields or {}).items() if value]
    title = "Case note" if note.kind == "termination" else f"Callback case note (attempt {note.known.get('attempt')})"
    return Step(note.created_at, "case_note", f"{title}, case {note.case_reference}",
                [f"By {_name(names, note.author_id)}", *fields])


def _task_steps(task: CallbackTask, names: dict[int, str]) -> list[Step]:
    steps = [Step(task.need_arose_at, "callback", f"Callback task {task.id} queued for the line manager",
                  [f"Due by {as_utc(task.due_at):%d %b %Y %H:%M} UTC", f"Status: {task.status}",
                   f"Attempts: {task.attempts}", *([f"Cancelled: {task.cancel_reason}"] if task.cancel_reason else [])])]
    if task.claimed_at:
        steps.append(Step(task.claimed_at, "callback", f"Callback claimed by {_name(names, task.claimed_by_id)}"))
    if task.closed_at:
        steps.append(Step(task.closed_at, "callback", f"Callback closed: {(task.outcome or 'closed').replace('_', ' ')}",
                          [f"Note: {task.outcome_note}"] if task.outcome_note else []))
    return steps


@dataclass(frozen=True)
class Timeline:
    """A call's timeline: the call, its handler's shown name (or None), the steps oldest first, its
    incident record's id (or None) and its callback tasks' ids."""

    call: Call
    handler: str | None
    steps: list[Step]
    incident_id: int | None
    task_ids: list[int]


def timeline(session: Session, call_sid: str, viewer: User, now: datetime, settings: OrgSettings) -> Timeline:
    """The call's timeline as `viewer` may see it. Raises NotFound for an unknown call or one `viewer` may not read. A register marker shown is
    logged as a view of its entry (R9); the caller commits."""
    call = find_call(session, call_sid[:64])
    if call is None or not may_read(session, viewer, call):
        raise NotFound(f"no call {call_sid} you may read")
    warnings = list(session.scalars(select(CallWarning).where(CallWarning.call_id == call.id)
                                    .order_by(CallWarning.created_at, CallWarning.id)))
    termination = session.scalar(select(Termination).where(Termination.call_id == call.id))
    incident = session.scalar(select(Incident).where(Incident.call_id == call.id))
    tasks = list(session.scalars(select(CallbackTask).where(or_(
        CallbackTask.call_id == call.id, CallbackTask.id == (termination.callback_task_id if termination else None)))))
    task_ids = {t.id for t in tasks}
    references = {t.case_reference for t in tasks}
    notes = [note for note in session.scalars(  # this call's notes, and the callback's (written on its own call)
        select(CaseNote).where(or_(CaseNote.call_id == call.id, CaseNote.case_reference.in_(references)))
        .order_by(CaseNote.created_at, CaseNote.id))
        if note.call_id == call.id or (note.known or {}).get("callback_task_id") in task_ids]
    names = shown_names(session, [call.handler_id, *(w.given_by_id for w in warnings), *(n.author_id for n in notes),
                             termination.terminated_by_id if termination else None,
                             *(t.claimed_by_id for t in tasks)])
    steps = [_ring_step(call)]
    if call.answered_at:
        steps.append(Step(call.answered_at, "answered", f"Answered by {_name(names, call.handler_id, 'nobody')}"))
    steps += _warning_steps(warnings, names, settings)
    if termination:
        warned = any(w.platform_status == PlayStatus.PLAYED for w in warnings)
        steps.append(_termination_step(termination, names, settings, warned))
    if call.ended_at:
        steps.append(Step(call.ended_at, "ended", f"Call ended ({call.status})",
                          [f"Duration: {call.duration_s} s"] if call.duration_s is not None else []))
    steps += [_note_step(note, names) for note in notes]
    if incident:
        steps.append(Step(incident.opened_at, "incident", f"Incident record {incident.id} opened"
                          + (" (serious: I7)" if incident.serious else ""), [f"Status: {incident.status}"],
                          link=f"/incidents/{incident.id}"))
    for task in tasks:
        steps += _task_steps(task, names)
    steps.sort(key=lambda step: as_utc(step.at) or now)
    markers_shown(session, viewer, [(call.caller, call.ring_marker, call.started_at)], now, via="call_timeline")
    return Timeline(call, names.get(call.handler_id) if call.handler_id else None, steps,
                    incident.id if incident else None, [t.id for t in tasks])
