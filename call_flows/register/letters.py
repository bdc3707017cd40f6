"""R5: the customer's letter, from a template the organisation edits, and when the entry takes effect.

The template is plain text with `{{ placeholders }}` (call_flows/register/letter_template.py renders it in
jinja2's sandbox, placeholders only); paragraphs are separated by a blank line. Every R5 element has a
placeholder the template must keep, so an edited template cannot drop one. The
letter is shown as print-ready HTML (escaped; see templates/register/letter.html). The entry goes
in force only when the letter is recorded as sent or a documented exemption is recorded.
"""
from dataclasses import dataclass
from typing import Any
from datetime import datetime

from sqlalchemy.orm import Session

from call_flows import logs
from call_flows.register import letter_template, rules as register_rules
from call_flows.calls.callers import audit
from call_flows.errors import Conflict, InvalidInput, NotFound
from call_flows.register.letter_template import OPTIONAL, REQUIRED  # noqa: F401  (the API and pages list them)
from call_flows.models import Customer, PanelDecision, RegisterEntry, RegisterLetter, User
from call_flows.validation import clean_text
from call_flows.settings import OrgSettings
from call_flows.vocabulary import RegisterStatus
from sqlalchemy import select

log = logs.get_logger(__name__)
EXEMPTIONS = ("risk_of_violence", "address_unknown")  # R5: the only two exceptions

DEFAULT_TEMPLATE = """{{ customer_name }}
{{ customer_address }}

Date: {{ date }}

Dear {{ customer_name }}

Re: {{ summary }}

I am writing to inform you that {{ organisation_name }} has placed you on its Customer Caution Register.

{{ reasons }}

We will not ignore incidents where our staff are subjected to aggression, verbal or physical, in the course of their duties. We keep a Customer Caution Register of customers who may present a risk to staff safety; the Customer Caution Review Panel has met and decided to add your details to it ({{ marker_meaning }}).

What this means for your future contact with us: {{ precautions }}

{{ new_issues_contact }}

Your details will remain on the Register until {{ expiry_date }} at the latest. Your inclusion, and any restrictions, will be reviewed by {{ review_date }}.

{{ sharing }}

{{ appeal_route }}

Yours sincerely

{{ signatory_name }}
{{ signatory_title }}"""


def template_text(settings: OrgSettings) -> str:
    """The organisation's template; one saved another way (the generic settings API) that drops an R5
    element or breaks a placeholder is not used: the built-in template is, so no letter lacks an element."""
    text = settings.register_letter_template or DEFAULT_TEMPLATE
    try:
        return validate_template(text)
    except InvalidInput:
        log.warning("letter_template_invalid", rule="R5", outcome="default_template_used")
        return DEFAULT_TEMPLATE


def validate_template(text: str) -> str:
    """Refuse a template that drops an R5 element or uses anything but the documented placeholders
    (the message names them); one in the older `{placeholder}` style is upgraded. Returns what to store."""
    return letter_template.validate(clean_text(text, "template", required=True, max_len=letter_template.MAX_LENGTH))


def _date(value: datetime) -> str:
    return f"{value.day} {value:%B %Y}"


def letter_values(entry: RegisterEntry, customer: Customer, decision: PanelDecision, now: datetime,
                  settings: OrgSettings) -> dict[str, Any]:
    """The values the letter fills in: the decision, with dates as they will be once it takes effect."""
    from call_flows.labels import MARKERS  # R2

    expiry = register_rules.expires_at(now, entry.source, entry.marker)
    review = register_rules.review_due(now, None)
    sharing = ("This information is shared with our employees who may deal with you"
               + (f", and with {decision.share_with}, because there is a credible risk to their staff."
                  if decision.share else ". It is not shared with other organisations."))
    return {
        "date": _date(now), "customer_name": customer.name or "Customer",
        "customer_address": customer.address or "", "summary": entry.summary or "Your recent contact with us",
        "reasons": f"The reasons for this decision: {decision.justification}",
        "marker_meaning": MARKERS.get(entry.marker, "") if entry.marker else "", "precautions": entry.precautions or "",
        "new_issues_contact": settings.letter_new_issues_contact, "appeal_route": settings.letter_appeal_route,
        "expiry_date": _date(expiry), "review_date": _date(review), "sharing": sharing,
        "signatory_name": decision.signatory_name or "", "signatory_title": decision.signatory_title or "",
        "organisation_name": settings.organisation_name, "incident_date": _date(entry.created_at),
    }


def _parts(session: Session, entry_id: int) -> tuple[RegisterEntry, RegisterLetter, PanelDecision]:
    entry = session.get(RegisterEntry, entry_id)
    if entry is None:
        raise NotFound(f"no register entry {entry_id}")
    letter = session.scalar(select(RegisterLetter).where(RegisterLetter.entry_id == entry_id))
    decision = session.scalar(select(PanelDecision).where(PanelDecision.entry_id == entry_id))
    if letter is None or decision is None or decision.outcome != "add":
        raise Conflict(f"entry {entry_id} has no decision to add it, so no letter", code="no_letter")
    return entry, letter, decision


@dataclass(frozen=True)
class Letter:
    """R5: the customer's letter of an entry: when it is due and was sent, a documented exemption (or
    None), its text (as sent, or as it would be sent today) and that text's paragraphs."""

    entry_id: int
    due_at: datetime
    sent_at: datetime | None
    exemption: str | None
    exemption_justification: str | None
    body: str
    paragraphs: list[str]


def letter_for(session: Session, entry_id: int, viewer: User, now: datetime, settings: OrgSettings) -> Letter:
    """The letter as sent, or as it would be sent today. Viewing it is audited (R9)."""
    entry, letter, decision = _parts(session, entry_id)
    if letter.body is None:
        values = letter_values(entry, session.get_one(Customer, entry.customer_id), decision, now, settings)
        body = letter_template.render(template_text(settings), values)
    else:
        body = letter.body
    audit(session, viewer, "view", "register_letter", entry.id, now)
    return Letter(entry.id, letter.due_at, letter.sent_at, letter.exemption, letter.exemption_justification, body,
                  [p.strip("\n") for p in body.split("\n\n") if p.strip()])


def _take_effect(entry: RegisterEntry, now: datetime) -> None:
    """R5/R6: in force from now; expires per register_rules (3 years, partners 1 year unless marker 1)."""
    entry.status = RegisterStatus.IN_FORCE
    entry.added_on = now
    entry.expires_at = register_rules.expires_at(now, entry.source, entry.marker)


def record_sent(session: Session, entry_id: int, user: User, now: datetime, settings: OrgSettings,
                sent_at: datetime | None = None) -> RegisterEntry:
    """R5: the letter went to the customer; the text is kept on file and the entry takes effect."""
    entry, letter, decision = _parts(session, entry_id)
    if entry.status != RegisterStatus.AWAITING_NOTICE:
        raise Conflict(f"entry {entry_id} is {entry.status}", code="not_awaiting_notice")
    sent_at = sent_at or now
    if sent_at > now:
        raise InvalidInput("sent_at cannot be in the future")
    values = letter_values(entry, session.get_one(Customer, entry.customer_id), decision, sent_at, settings)
    letter.body = letter_template.render(template_text(settings), values)
    letter.generated_at, letter.sent_at, letter.sent_by_id = now, sent_at, user.id
    entry.notified = True
    _take_effect(entry, sent_at)
    audit(session, user, "letter_sent", "register_entry", entry.id, now, sent_at=sent_at.isoformat(),
          late=sent_at > letter.due_at)
    return entry


def record_exemption(session: Session, entry_id: int, user: User, reason: str, justification: str,
                     now: datetime) -> RegisterEntry:
    """R5: no letter, because telling them risks violence or the address is unknown; justified and documented."""
    entry, letter, _ = _parts(session, entry_id)
    if entry.status != RegisterStatus.AWAITING_NOTICE:
        raise Conflict(f"entry {entry_id} is {entry.status}", code="not_awaiting_notice")
    letter.exemption, letter.exemption_justification = reason, justification  # valid (ExemptionIn)
    entry.notified = False
    _take_effect(entry, now)
    audit(session, user, "letter_exempt", "register_entry", entry.id, now, reason=reason)
    return entry

