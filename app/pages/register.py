"""The caution register's pages for the review panel and managers (R3, R5, R6, R8).

Forms post back here (CSRF token in each), each view calls one service, then redirects with a
message (post/redirect/get); a refused action (quorum, missing justification...) says why. The
JSON API (app/api/register.py) does the same through the same services.
"""
from datetime import date, datetime, timedelta
from typing import Annotated

from flask import current_app, flash, redirect, render_template, request, url_for
from pydantic import BaseModel, BeforeValidator, Field, ValidationInfo, create_model
from sqlalchemy import select

from call_flows.incidents import records as incident_records
from call_flows.register import letters as register_letters, panel as register_panel, privacy as register_privacy, reviews as register_reviews
from call_flows import settings as org_settings
from call_flows.clock import day_start, utcnow
from call_flows.errors import DomainError, InvalidInput
from call_flows.labels import MARKERS, label
from call_flows.models import User
from call_flows.phone import split_numbers
from call_flows.register.shown import entries_shown
from call_flows.validation import FreeText, refused
from call_flows.vocabulary import PANEL, PANEL_ROLES, REGISTER_READERS as READERS, RegisterStatus, Role

from ..api.shapes import pending_json
from ..api.shapes_register import entry_json, entry_summary_json, review_due_json
from ..api.register_schemas import (Id, AppealIn, AppealOutcomeIn, DecisionIn, ExemptionIn, ProposalIn, RegisterQuery,
                                    RegisterReviewIn, ReviewIn)
from ..auth import current_staff
from ..db import db_session, unit_of_work
from ..forms import BackTo, LenientId, form_body, query_args
from ..routing import form_id
from . import bp
from .live import page_roles



def _day(raw: object, info: ValidationInfo) -> date | None:
    if not isinstance(raw, str):
        return None
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise refused(f"{(info.field_name or 'date').replace('_', ' ')} must be a date") from None


Day = Annotated[date | None, BeforeValidator(_day)]  # a date field: YYYY-MM-DD, blank = not given
DAY_FORMS = {name: create_model(f"DayForm_{name}", **{name: (Day, None)})  # type: ignore[call-overload]
             for name in ("sent_on", "received_on", "told_on")}


def form_date(name: str, now: datetime) -> datetime:
    """A date field (blank = now); midday of that date on the organisation's clock, never later than now."""
    day = getattr(form_body(DAY_FORMS[name]), name)
    return now if day is None else min(day_start(day) + timedelta(hours=12), now)


def _incident_number(raw: object) -> object:
    number = form_id(raw) if isinstance(raw, str) else raw
    if raw is not None and number is None:
        raise refused("incident number must be a number (of an incident record)")
    return number


def _lines(sent: list[str]) -> list[str]:
    """Case references typed one a line or separated by commas."""
    return [line.strip() for text in sent for line in text.replace(",", "\n").splitlines() if line.strip()]


def _numbers(sent: list[str]) -> list[str]:
    """Numbers typed one a line, or separated by commas or semicolons (phone.split_numbers)."""
    return [piece for text in sent for piece in split_numbers(text, current_app.config["DEFAULT_REGION"])]


class ProposalForm(ProposalIn):
    """The proposal page's form: the API's model, with the incident number typed and the lists as text."""

    incident_id: Annotated[Id | None, BeforeValidator(_incident_number)] = None
    case_references: Annotated[list[Annotated[str | None, FreeText(64)]], BeforeValidator(_lines)] = Field(
        default_factory=list, max_length=20)
    phones: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], BeforeValidator(_numbers)] = Field(
        default_factory=list, max_length=20)


def attempt(action, success: str, back: str):
    """Run a service call; commit and confirm, or roll back and say why it was refused."""
    try:
        with unit_of_work() as uow:
            result = action(uow.session)
            uow.commit()
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(success(result) if callable(success) else success.format(result=result), "ok")
    return redirect(back)


def _status() -> str | None:
    """The list's status filter; one the model refuses (a NUL, overlong) is no filter, as a filter never refuses."""
    try:
        return query_args(RegisterQuery).status
    except InvalidInput:
        return None


@bp.get("/register")
@page_roles(*READERS)
def register_home():
    viewer, now = current_staff(), utcnow()
    panel = viewer.role in PANEL_ROLES
    status = _status()
    with unit_of_work() as uow:
        session = uow.session
        data = {
            "entries": [entry_summary_json(e) for e in register_privacy.list_entries(session, viewer, now, status)],
            "proposals": [pending_json(p) for p in register_panel.proposals(session, viewer, now)] if panel else [],
            "awaiting": [entry_summary_json(e)
                         for e in register_privacy.list_entries(session, viewer, now, RegisterStatus.AWAITING_NOTICE)]
            if panel else [],
            "reviews_due": [review_due_json(d) for d in register_reviews.reviews_due(session, now)] if panel else [],
            "register_review_due": register_reviews.register_review_due(session, now) if panel else None,
            "last_register_review": register_reviews.last_register_review(session) if panel else None,
            "appeals": register_reviews.appeals_open(session) if panel else [],
            "reminders": register_reviews.open_reminders(session, 10) if panel else [],
        }
        entries_shown(session, viewer, [row["id"] for row in data["reviews_due"]] +  # R9: every entry shown
                      [appeal.entry_id for appeal in data["appeals"]], now, "register_home")
        uow.commit()  # R9: the listing is audited
    return render_template("register/home.html", panel=panel, now=now, status=status or "",
                           viewer=viewer, **data)


@bp.route("/register/propose", methods=["GET", "POST"])
@page_roles(Role.LINE_MANAGER, Role.ADMIN)
def register_propose():
    if request.method == "POST":
        form = request.form
        try:
            with unit_of_work() as uow:  # a refusal rolls back
                proposal = register_panel.Proposal(**form_body(ProposalForm).model_dump())
                entry = register_panel.propose(uow.session, current_staff(), proposal, utcnow(),
                                               org_settings.load(uow.session), current_app.config["DEFAULT_REGION"])
                uow.commit()
        except DomainError as exc:
            return render_template("register/propose.html", error=exc.message, form=form, incidents=_incidents()), 400
        flash(f"Proposal {entry.id} sent to the review panel; it must meet by "
              f"{entry.meet_by:%d %B %Y}.", "ok")
        return redirect(url_for("pages.register_home"))
    chosen = query_args(ProposeQuery).incident
    return render_template("register/propose.html", error=None, form={}, incidents=_incidents(),
                           incident_id=chosen or "")


class ProposeQuery(BaseModel):
    """/register/propose?incident=N: the incident record to propose on, filled in (one that cannot be: none)."""

    incident: LenientId = None


def _incidents():
    """The incident records the proposer may see (R9: their teams'), newest first."""
    return incident_records.visible(db_session(), current_staff())[:50]


@bp.get("/register/entries/<int:entry_id>")
@page_roles(*READERS)
def register_entry(entry_id):
    viewer = current_staff()
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            entry = entry_json(register_privacy.entry_view(uow.session, entry_id, viewer, utcnow()))
            uow.commit()  # R9: the view of the entry is audited
    except DomainError as exc:
        return render_template("console/forbidden.html", roles=READERS, message=exc.message), exc.status
    session = db_session()
    members = list(session.scalars(select(User).where(User.role == Role.PANEL_MEMBER, User.active)
                                   .order_by(User.username)))
    names = {u.id: u.shown_name for u in session.scalars(select(User))}
    return render_template("register/entry.html", entry=entry, viewer=viewer, members=members, names=names,
                           panel=viewer.role in PANEL_ROLES, markers=MARKERS,
                           exemptions=register_letters.EXEMPTIONS)


def _back(entry_id: int) -> str:
    return url_for("pages.register_entry", entry_id=entry_id)


@bp.post("/register/entries/<int:entry_id>/decision")
@page_roles(*PANEL)
def register_decide(entry_id):
    form = request.form

    def action(s):
        marker = form.get("marker", "")
        chair = form.get("chair_id", "")
        body = form_body(DecisionIn, member_ids=[m for m in map(form_id, form.getlist("member_ids")) if m is not None],
                         chair_id=form_id(chair), marker=int(marker) if marker.isdigit() else None,
                         share=form.get("share") == "yes")
        return register_panel.decide(s, entry_id, register_panel.Decision(**body.model_dump()), current_staff(),
                                     utcnow(), org_settings.load(s))

    return attempt(action, lambda entry: "Decision recorded: " + (
        "the entry is awaiting notice: send the letter or record an exemption."
        if entry.status == RegisterStatus.AWAITING_NOTICE
        else "the customer is not added to the register."), _back(entry_id))


@bp.post("/register/entries/<int:entry_id>/letter/sent")
@page_roles(*PANEL)
def register_letter_sent(entry_id):
    def action(s):
        now = utcnow()
        return register_letters.record_sent(s, entry_id, current_staff(), now, org_settings.load(s),
                                            form_date("sent_on", now))

    return attempt(action, "Letter recorded as sent: the entry is now in force.", _back(entry_id))


@bp.post("/register/entries/<int:entry_id>/letter/exemption")
@page_roles(*PANEL)
def register_letter_exemption(entry_id):
    def action(s):  # the form's fields are the service's arguments (reason, justification)
        return register_letters.record_exemption(s, entry_id, current_staff(), now=utcnow(),
                                                 **form_body(ExemptionIn).model_dump())

    return attempt(action, "Exemption recorded: the entry is now in force.", _back(entry_id))


@bp.post("/register/entries/<int:entry_id>/reviews")
@page_roles(*PANEL)
def register_review_entry(entry_id):
    def action(s):  # the form's fields are the service's arguments (outcome, notes)
        return register_reviews.review_entry(s, entry_id, current_staff(), now=utcnow(), **form_body(ReviewIn).model_dump())

    return attempt(action, lambda review: f"Review recorded: {label('panel_outcome', review.outcome)}.",
                   _back(entry_id))


@bp.post("/register/entries/<int:entry_id>/appeals")
@page_roles(Role.PANEL_MEMBER, Role.ADMIN)
def register_appeal(entry_id):
    def action(s):
        now = utcnow()
        return register_reviews.record_appeal(s, entry_id, current_staff(), form_date("received_on", now),
                                              form_body(AppealIn).summary, now, org_settings.load(s))

    return attempt(action, "Appeal recorded; answer due by {result.due_at:%d %B %Y}.", _back(entry_id))


@bp.post("/register/appeals/<int:appeal_id>/outcome")
@page_roles(*PANEL)
def register_appeal_outcome(appeal_id):
    entry_id = form_body(BackTo).entry_id

    def action(s):
        body = form_body(AppealOutcomeIn)
        return register_reviews.decide_appeal(s, appeal_id, current_staff(), body.outcome, body.notes, utcnow())

    back = _back(entry_id) if entry_id else url_for("pages.register_home")
    return attempt(action, lambda appeal: f"Appeal {label('panel_outcome', appeal.outcome).lower()}.", back)


@bp.post("/register/review")
@page_roles(*PANEL)
def register_review_all():
    def action(s):
        return register_reviews.review_register(s, current_staff(), form_body(RegisterReviewIn).notes, utcnow())

    return attempt(action, "Register review recorded.", url_for("pages.register_home"))


from . import register_manage  # noqa: E402,F401
