"""Incident records (I1-I4, I6): fields, welfare steps, the staff member's acknowledgement,
completion and distribution. Records are never deleted (I6: see models/incidents_extra.py)."""
from typing import Any
import re
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from call_flows import logs
from call_flows.callbacks.queue import scope
from call_flows.errors import Conflict, Forbidden, InvalidInput, NotFound
from call_flows.labels import INCIDENT_FIELDS, label
from call_flows.jobs.mail import addresses, queue_email
from call_flows.clock import local, local_date
from call_flows.models import Call, CallWarning, Incident, Team, Termination, User
from call_flows.register.spreadsheet import parse_date
from call_flows.settings import OrgSettings
from call_flows.vocabulary import IncidentStatus, Recipient, Role

TEXT_FIELDS = ("incident_date", "incident_time", "location", "details", "action_taken", "staff_involved",
               "reported_to", "comments", "welfare_note")  # I1 (+ I3's note)
FLAGS = ("riddor_reportable", "security_breach", "welfare_spoke_with_staff", "welfare_support_offered",
         "welfare_time_given")
REQUIRED_TO_COMPLETE = ("incident_date", "incident_time", "location", "details", "action_taken", "staff_involved")
WELFARE = ("welfare_spoke_with_staff", "welfare_support_offered", "welfare_time_given")  # I3
DISTRIBUTION = ((Recipient.HR_SERVICE_CENTRE, "recipient_hr_service_centre"),
                (Recipient.EQUALITY_DIVERSITY, "recipient_equality_diversity"),
                (Recipient.UNION_HS_REPS, "recipient_union_hs_reps"))  # I4
TIME = re.compile(r"(\d{1,2}):(\d{2})")
LABELS = INCIDENT_FIELDS  # the field labels live with every other label table (call_flows.labels)
log = logs.get_logger(__name__)


def _may_see(session: Session, user: User, incident: Incident) -> bool:
    if user.role == Role.ADMIN or incident.staff_id == user.id:
        return True
    if user.role == Role.LINE_MANAGER:
        teams, _ = scope(session, user)
        return incident.team_id in teams
    return user.role == Role.SUPERVISOR and (incident.team_id == user.team_id or incident.serious)


def get(session: Session, incident_id: int, user: User) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None or not _may_see(session, user, incident):
        raise NotFound(f"no incident {incident_id} you may see")
    return incident


def visible(session: Session, user: User) -> list[Incident]:
    """The records a person works on: their teams' (managers), their team's and every serious one
    (supervisors), their own (staff: to read and acknowledge)."""
    query = select(Incident).order_by(Incident.status.desc(), Incident.opened_at.desc(), Incident.id.desc())
    if user.role == Role.LINE_MANAGER:
        teams, _ = scope(session, user)
        query = query.where(or_(Incident.team_id.in_(teams), Incident.staff_id == user.id))
    elif user.role == Role.SUPERVISOR:
        query = query.where(or_(Incident.team_id == user.team_id, Incident.serious.is_(True)))
    elif user.role != Role.ADMIN:
        query = query.where(Incident.staff_id == user.id)
    return list(session.scalars(query.limit(500)))


def to_acknowledge(session: Session, user: User) -> list[Incident]:
    """I3: completed records about this member of staff that they have not yet read and signed."""
    return list(session.scalars(select(Incident).where(Incident.staff_id == user.id,
                                                       Incident.status == IncidentStatus.COMPLETED,
                                                       Incident.acknowledged_at.is_(None)).order_by(Incident.id)))


def save(session: Session, incident_id: int, user: User, values: dict[str, Any], now: datetime) -> Incident:
    """I2: any member of staff who may see the record fills it in while details are fresh."""
    incident = get(session, incident_id, user)
    if incident.status == IncidentStatus.COMPLETED:
        raise Conflict("the record was completed and distributed; it can no longer change", code="incident_completed")
    unknown = set(values) - set(TEXT_FIELDS) - set(FLAGS)
    if unknown:
        raise InvalidInput(f"unknown fields: {', '.join(sorted(unknown))}")
    details = dict(incident.details or {})
    for name in TEXT_FIELDS:
        if name in values:
            details[name] = values[name]  # clean text or None (IncidentIn, for the API and the page alike)
    for name, check in (("incident_date", _check_date), ("incident_time", _check_time)):
        if details.get(name) and name in values:
            details[name] = check(details[name], now)
    for name in FLAGS:
        if name in values and values[name] is not None:  # null = not answered, as /openapi.json allows
            if not isinstance(values[name], bool):
                raise InvalidInput(f"{name} must be true or false")
            details[name] = values[name]
    incident.details = details
    if user.role == Role.LINE_MANAGER:
        incident.picked_up_at = incident.picked_up_at or now  # I5
    return incident


def _check_date(text: str, now: datetime) -> str:
    """I1's date: ISO or UK day-first (as the register import reads dates), not after today; stored ISO."""
    try:
        day = parse_date(text, "the date")
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_date") from None
    if day > local_date(now):
        raise InvalidInput(f"the date {day:%d %B %Y} is in the future", code="invalid_date")
    return day.isoformat()


def _check_time(text: str, now: datetime) -> str:
    """I1's time: 24-hour HH:MM (9:05 is read as 09:05); stored HH:MM."""
    match = TIME.fullmatch(text)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InvalidInput(f"the time '{text[:20]}' is not a time of day (write it as 14:05)", code="invalid_time")
    return f"{int(match[1]):02d}:{match[2]}"


def known_when(session: Session, incident: Incident) -> dict[str, Any]:
    """I1: the date and time the service knows (when the call was ended, else when it started, else
    when the record was opened), in the organisation's time, as the form's starting values."""
    call = session.get(Call, incident.call_id) if incident.call_id else None
    termination = session.scalar(select(Termination).where(Termination.call_id == call.id)) if call else None
    at = local(termination.created_at if termination else call.started_at if call else incident.opened_at)
    return {"incident_date": at.date().isoformat(), "incident_time": f"{at:%H:%M}"}


def complete(session: Session, incident_id: int, user: User, now: datetime, settings: OrgSettings) -> Incident:
    """The manager completes and submits the record; it goes to the configured recipients (I4).
    Completing again changes nothing and sends nothing again."""
    incident = get(session, incident_id, user)
    if user.role != Role.LINE_MANAGER:
        raise Forbidden("the line manager completes and submits the record (I2)", code="line_manager_completes")
    if incident.status == IncidentStatus.COMPLETED:
        return incident
    details = incident.details or {}
    missing = [LABELS[n] for n in REQUIRED_TO_COMPLETE if not details.get(n)]
    missing += [LABELS[n] for n in WELFARE if details.get(n) is not True]
    if missing:
        raise InvalidInput("to complete the record, fill in: " + "; ".join(missing))
    incident.status, incident.completed_at, incident.completed_by_id = IncidentStatus.COMPLETED, now, user.id
    incident.picked_up_at = incident.picked_up_at or now
    distribute(session, incident, now, settings)
    return incident


def distribute(session: Session, incident: Incident, now: datetime, settings: OrgSettings) -> None:
    """I4: HR service centre, Equality and Diversity, union H&S reps, and the security help desk
    when there was a security or data breach. One email per address, keyed so it is sent once."""
    recipients = list(DISTRIBUTION)
    if (incident.details or {}).get("security_breach"):
        recipients.append((Recipient.SECURITY_DESK, "recipient_security_desk"))
    subject = f"Incident record {incident.id} ({incident.case_reference or 'no case reference'})"
    body = summary(session, incident)
    for recipient, setting in recipients:
        for address in addresses(getattr(settings, setting)):
            queue_email(session, f"incident-{incident.id}-to-{address}", "distribution", recipient, address,
                        subject, body, now, incident_id=incident.id, link=f"/incidents/{incident.id}")


def acknowledge(session: Session, incident_id: int, user: User, now: datetime) -> Incident:
    """I3: the staff member reads and signs the completed record, in their own session.
    Raises Forbidden for anyone else, Conflict `incident_not_completed` (409) while the record is
    still open: there is nothing final to sign until the manager has completed it."""
    incident = get(session, incident_id, user)
    if incident.staff_id != user.id:
        raise Forbidden("only the member of staff the record is about can acknowledge it", code="not_your_record")
    if incident.status != IncidentStatus.COMPLETED:
        raise Conflict("I3: this record is still open; you can read and sign it once your line manager has "
                       "completed it", code="incident_not_completed")
    incident.acknowledged_at = incident.acknowledged_at or now
    log.info("incident_acknowledged", incident=incident.id, case_reference=incident.case_reference, rule="I3",
             outcome="acknowledged", user=user.username)
    return incident


def _caller(call: Call | None) -> str:
    """The caller as the record shows it; after the retention purge only the last 4 digits remain (R9, I6)."""
    if call is None:
        return "-"
    return call.caller or (call.caller_raw if call.purged_at else call.caller_kind)


def _what_happened(session: Session, call: Call | None) -> list[str]:
    """What the service itself knows of the call (T4): when, the team and site, the warnings and the
    termination, so an email sent before the manager fills the record in (I5, I7) is never blank."""
    if call is None:
        return []
    team = session.get(Team, call.team_id) if call.team_id else None
    lines = [f"Call: {call.started_at:%Y-%m-%d %H:%M} UTC"]
    if team is not None:
        lines.append(f"Team: {team.name}" + (f", site {team.site}" if team.site else ""))
    for warning in session.scalars(select(CallWarning).where(CallWarning.call_id == call.id)
                                   .order_by(CallWarning.created_at)):
        lines.append(f"Warning at {warning.created_at:%H:%M} UTC: {warning.reason.replace('_', ' ')}"
                     + (f" ({warning.detail})" if warning.detail else ""))
    ended = session.scalar(select(Termination).where(Termination.call_id == call.id))
    if ended is not None:
        lines.append(f"Call ended for behaviour at {ended.created_at:%H:%M} UTC: {ended.reason.replace('_', ' ')}")
        if ended.immediate_reason:
            lines.append(f"Ended without a warning because: {ended.immediate_reason.replace('_', ' ')}"
                         + (f" ({ended.immediate_detail})" if ended.immediate_detail else ""))
    return lines


def summary(session: Session, incident: Incident) -> str:
    """The record as plain text, for the emails: only lines that say something (a field the manager
    has not filled in yet is left out, not shown empty), with what the service knows of the call."""
    staff = session.get(User, incident.staff_id) if incident.staff_id else None
    call = session.get(Call, incident.call_id) if incident.call_id else None
    details = incident.details or {}
    lines = [f"Incident record {incident.id}",
             *([f"Case reference: {incident.case_reference}"] if incident.case_reference else []),
             f"Opened: {incident.opened_at:%Y-%m-%d %H:%M} UTC", f"Status: {incident.status}",
             *([f"Staff member: {staff.shown_name}"] if staff else []),
             *([f"Caller: {_caller(call)}"] if call else []),
             f"Serious (threat of violence, I7): {'yes' if incident.serious else 'no'}",
             *_what_happened(session, call), ""]
    for name in (*TEXT_FIELDS, *FLAGS):
        value = details.get(name)
        if isinstance(value, bool):
            value = "yes" if value else "no"
        if value:
            lines.append(f"{LABELS[name]}: {value}")
    for entry in details.get("callbacks", []):
        lines.append(f"Callback attempt {entry['attempt']}: {label('outcome', entry['outcome'])} "
                     f"({entry['by']}, {entry['at']})")
    for entry in details.get("callback_terminations", []):  # M2: the callback itself was ended for behaviour
        lines.append(f"Callback ended for behaviour: {entry['reason']} ({entry['at']})")
    lines.append(f"Acknowledged by the staff member: "
                 f"{incident.acknowledged_at.strftime('%Y-%m-%d %H:%M') + ' UTC' if incident.acknowledged_at else 'not yet'}")
    return "\n".join(lines) + "\n"

