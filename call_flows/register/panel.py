"""The review panel's workflow (R3, R2, R7): a line manager proposes, the panel decides.

An entry is only ever added by a panel decision taken with at least 3 members present, one of them
the chair, on an incident record (R3). The decision does not put the entry in force: that waits for
the customer's letter or a documented exemption (R5, see register_letters.py).
"""
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.incidents import records as incident_records
from call_flows.calls.callers import audit
from call_flows.errors import Conflict, InvalidInput, NotFound
from call_flows.models import Call, Customer, CustomerPhone, PanelDecision, RegisterEntry, RegisterLetter, User
from call_flows.phone import to_e164
from call_flows.register.shown import entries_shown
from call_flows.validation import clean_text
from call_flows.vocabulary import OPEN_ENTRIES, Marker, RegisterSource, RegisterStatus, Role
from call_flows.working_days import add_working_days
from call_flows.settings import OrgSettings



class QuorumNotMet(InvalidInput):
    """R3: fewer than the required members present, or no chair among them."""

    code = "quorum_not_met"


@dataclass
class Proposal:
    """What a line manager writes when proposing an entry from an incident record (R3, R4)."""

    incident_id: int | None
    name: str
    summary: str
    phones: list[str]
    address: str | None = None
    email: str | None = None
    case_references: list[str] | None = None
    key_contact: str | None = None
    reporting_service: str | None = None
    source: str = RegisterSource.OWN


def phones_e164(raw: list[str] | None, region: str) -> list[str]:
    """Every number written in any common format, as E.164 (CONTRACT conventions), without repeats."""
    out: list[str] = []
    for number in raw or []:
        e164 = to_e164(number, region)
        if e164 not in out:
            out.append(e164)
    return out


def attach_phones(session: Session, customer: Customer, numbers: list[str]) -> list[str]:
    """R4: a customer has several numbers; a number already belonging to someone else is refused."""
    added = []
    for e164 in numbers:
        owner = session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == e164))
        if owner is None:
            session.add(CustomerPhone(customer_id=customer.id, phone=e164))
            added.append(e164)
        elif owner != customer.id:
            raise Conflict(f"{e164} already belongs to another customer", code="phone_taken")
    session.flush()
    return added


def propose(session: Session, proposer: User, proposal: Proposal, now: datetime, settings: OrgSettings,
            region: str = "GB") -> RegisterEntry:
    """R3: a proposed entry; the panel must meet within `panel_meet_within_days` of receiving it.
    The proposal's fields arrive valid (app/api/register_schemas.py ProposalIn, for the API and the page)."""
    source, name, summary = proposal.source, proposal.name, proposal.summary
    incident = None
    if proposal.incident_id is not None:
        # R9: only on an incident record the proposer may see (their teams'); others do not exist for them.
        incident = incident_records.get(session, proposal.incident_id, proposer)
    elif source == RegisterSource.OWN:
        raise InvalidInput("incident_id is required: an entry is proposed on an incident record (R3)")
    numbers = phones_e164(proposal.phones, region)
    if not numbers and incident is not None and incident.call_id:
        caller = session.scalar(select(Call.caller).where(Call.id == incident.call_id))
        numbers = [caller] if caller else []
    owners = {session.scalar(select(CustomerPhone.customer_id).where(CustomerPhone.phone == n)) for n in numbers}
    owners.discard(None)
    if len(owners) > 1:
        raise Conflict("these numbers belong to different customers", code="phone_taken")
    customer = session.get(Customer, owners.pop()) if owners else None
    if customer is None:
        customer = Customer(name=name, created_at=now)
        session.add(customer)
        session.flush()
    customer.name = name
    customer.address = proposal.address or customer.address
    customer.email = proposal.email or customer.email
    refs = proposal.case_references or []
    customer.case_references = sorted(set((customer.case_references or []) + [r for r in refs if r])) or None
    attach_phones(session, customer, numbers)
    open_entry = session.scalar(select(RegisterEntry.id).where(RegisterEntry.customer_id == customer.id,
                                                               RegisterEntry.status.in_(OPEN_ENTRIES)))
    if open_entry is not None:
        # R9: the refusal names no record the proposer may not open (handlers and other teams' managers).
        raise Conflict("this customer already has an entry proposed or in force; see the register",
                       code="already_proposed")
    entry = RegisterEntry(
        customer_id=customer.id, incident_id=incident.id if incident else None, status=RegisterStatus.PROPOSED, source=source,
        summary=summary,
        key_contact=proposal.key_contact or proposer.shown_name,
        reporting_service=proposal.reporting_service or (proposer.team.name if proposer.team else None),
        notified=False, proposed_by_id=proposer.id, created_at=now,
        meet_by=now + timedelta(days=settings.panel_meet_within_days))
    session.add(entry)
    session.flush()
    audit(session, proposer, "create", "register_entry", entry.id, now, status=RegisterStatus.PROPOSED,
          incident_id=entry.incident_id)
    return entry


@dataclass
class Decision:
    """The panel's decision as recorded after the meeting (R2, R3, R7)."""

    outcome: str  # add | reject
    member_ids: list[int]
    chair_id: int
    justification: str
    marker: int | None = None
    precautions: str | None = None
    share: bool = False
    share_with: str | None = None
    share_justification: str | None = None
    signatory_name: str | None = None
    signatory_title: str | None = None


def check_quorum(session: Session, member_ids: list[int], chair_id: int, settings: OrgSettings) -> list[User]:
    """R3: at least `panel_quorum` (never fewer than 3) distinct panel members present, one of them the chair."""
    needed = settings.panel_quorum  # R3: the model bounds it to 3 or more
    ids = list(dict.fromkeys(member_ids))
    if len(ids) < needed:
        raise QuorumNotMet(f"the panel needs at least {needed} members present; {len(ids)} recorded (R3)")
    if chair_id not in ids:
        raise QuorumNotMet("the chair must be one of the members present (R3)")
    members = list(session.scalars(select(User).where(User.id.in_(ids), User.active)))
    if len(members) != len(ids) or any(m.role != Role.PANEL_MEMBER for m in members):
        raise QuorumNotMet("every member present must be an active review panel member (R3)")
    return members


def decide(session: Session, entry_id: int, decision: Decision, recorder: User, now: datetime,
           settings: OrgSettings) -> RegisterEntry:
    """R3: record the decision. `add` waits for the letter or exemption (R5); `reject` closes the proposal."""
    entry = session.get(RegisterEntry, entry_id)
    if entry is None:
        raise NotFound(f"no register entry {entry_id}")
    if entry.status != RegisterStatus.PROPOSED:
        raise Conflict(f"entry {entry_id} is {entry.status}, not awaiting a decision", code="already_decided")
    outcome, justification = decision.outcome, decision.justification  # valid (DecisionIn)
    check_quorum(session, decision.member_ids, decision.chair_id, settings)
    row = PanelDecision(entry_id=entry.id, outcome=outcome, member_ids=list(dict.fromkeys(decision.member_ids)),
                        chair_id=decision.chair_id, justification=justification, share=False,
                        recorded_by_id=recorder.id, decided_at=now)
    if outcome == "reject":
        entry.status, entry.ended_at, entry.end_reason = RegisterStatus.REJECTED, now, "panel_rejected"
    else:
        if decision.marker not in tuple(Marker):
            raise InvalidInput("marker must be 1 (violent), 2 (potentially violent) or 3 (abusive) (R2)")
        entry.marker = decision.marker
        entry.precautions = clean_text(decision.precautions, "precautions", required=True)
        if decision.share:  # R7: only on a credible risk, by documented decision
            row.share = True
            row.share_with = clean_text(decision.share_with, "share_with", required=True)
            row.share_justification = clean_text(decision.share_justification, "share_justification", required=True)
        chair = session.get(User, decision.chair_id)
        assert chair is not None  # the chair is one of the members, checked above
        row.signatory_name = decision.signatory_name or chair.shown_name
        row.signatory_title = decision.signatory_title or "Panel chair"
        entry.status = RegisterStatus.AWAITING_NOTICE
        session.add(RegisterLetter(entry_id=entry.id,
                                   due_at=add_working_days(now, settings.letter_due_working_days)))
    session.add(row)
    session.flush()
    audit(session, recorder, "decide", "register_entry", entry.id, now, outcome=outcome, marker=entry.marker,
          members=row.member_ids, chair_id=row.chair_id, late=bool(entry.meet_by and now > entry.meet_by))
    return entry


@dataclass(frozen=True)
class Pending:
    """A proposed entry awaiting the panel (R3): `customer` its name, `overdue` past its meeting deadline."""

    entry: RegisterEntry
    customer: str | None
    overdue: bool


def proposals(session: Session, viewer: User, now: datetime) -> list[Pending]:
    """R3: what the panel has to decide, the nearest meeting deadline first. The listing is audited (R9)."""
    rows = session.execute(select(RegisterEntry, Customer.name).join(Customer)
                           .where(RegisterEntry.status == RegisterStatus.PROPOSED).order_by(RegisterEntry.meet_by)).all()
    audit(session, viewer, "view", "register", None, now, status=RegisterStatus.PROPOSED, count=len(rows))
    entries_shown(session, viewer, [e.id for e, _ in rows], now, "proposals")  # R9: each entry listed
    return [Pending(e, name, bool(e.meet_by and now > e.meet_by)) for e, name in rows]
