"""Register pages around a customer and the organisation: the printable letter (R5) and its template,
a customer's numbers, concerns and restrictions (R4, C1), the subject-access export (R9) and the
repeat-caller signals (R10, C2)."""
import json
from typing import Annotated

from flask import Response, current_app, redirect, render_template, request, url_for
from pydantic import BaseModel, BeforeValidator
from sqlalchemy import select

from call_flows.register import restrictions as contact_restrictions, letters as register_letters, privacy as register_privacy
from call_flows.calls import signals
from call_flows import settings as org_settings
from call_flows.calls.callers import audit
from call_flows.clock import utcnow
from call_flows.errors import DomainError, InvalidInput, NotFound
from call_flows.models import Customer, CustomerPhone, RegisterEntry, User
from call_flows.register.panel import attach_phones, phones_e164
from call_flows.register.shown import entries_shown
from call_flows.vocabulary import MANAGERS, REGISTER_READERS as READERS, Role

from ..api.register_schemas import ConcernIn, PhoneIn, RestrictionIn, TemplateIn
from ..api.shapes_register import subject_access_json
from ..auth import current_staff
from ..db import db_session, unit_of_work
from ..forms import BackTo, form_body, query_args, typed
from ..routing import form_id
from . import bp
from .live import page_roles
from .register import attempt, form_date


class Saved(BaseModel):
    """The letter template page's query after a save (post/redirect/get): says so."""

    saved: Annotated[bool, BeforeValidator(bool)] = False  # any value: saved



@bp.get("/register/entries/<int:entry_id>/letter")
@page_roles(Role.PANEL_MEMBER, Role.ADMIN)
def register_letter(entry_id):
    """R5: the letter as print-ready HTML (print stylesheet in the template); viewing it is audited."""
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            letter = register_letters.letter_for(uow.session, entry_id, current_staff(), utcnow(),
                                                 org_settings.load(uow.session))
            uow.commit()
    except DomainError as exc:
        return render_template("console/forbidden.html", roles=(Role.PANEL_MEMBER,), message=exc.message), exc.status
    return render_template("register/letter.html", letter=letter)


@bp.route("/register/letter-template", methods=["GET", "POST"])
@page_roles(Role.PANEL_MEMBER, Role.ADMIN)
def register_letter_template():
    error = None
    text = register_letters.template_text(org_settings.load(db_session(), fresh=True))
    if request.method == "POST":
        text = typed(request.path).get("template", "")
        try:
            with unit_of_work() as uow:  # a refusal rolls back
                template = form_body(TemplateIn).template
                org_settings.save(uow.session, "register_letter_template", register_letters.validate_template(template))
                audit(uow.session, current_staff(), "update", "letter_template", None, utcnow())
                uow.commit()
            return redirect(url_for("pages.register_letter_template", saved=1))
        except DomainError as exc:
            error = exc.message
    return render_template("register/template.html", text=text, error=error, required=register_letters.REQUIRED,
                           optional=register_letters.OPTIONAL, saved=query_args(Saved).saved,
                           viewer=current_staff()), 400 if error else 200


@bp.get("/register/customers/<int:customer_id>")
@page_roles(*READERS)
def register_customer(customer_id):
    session = db_session()
    customer = session.get(Customer, customer_id)
    if customer is None:
        return render_template("console/forbidden.html", roles=READERS, message="No such customer."), 404
    viewer = current_staff()
    phones = list(session.scalars(select(CustomerPhone.phone).where(CustomerPhone.customer_id == customer_id)))
    entries = list(session.scalars(select(RegisterEntry).where(RegisterEntry.customer_id == customer_id)
                                   .order_by(RegisterEntry.id.desc())))
    held = contact_restrictions.for_customer(session, customer_id)
    with unit_of_work() as uow:
        audit(uow.session, viewer, "view", "customer", customer_id, utcnow())
        entries_shown(uow.session, viewer, [e.id for e in entries], utcnow(), "customer_page")  # R9
        uow.commit()
    officers = list(session.scalars(select(User).where(User.active, User.role != Role.ADMIN).order_by(User.username)))
    return render_template("register/customer.html", customer=customer, phones=phones, entries=entries,
                           viewer=viewer, officers=officers, manager=viewer.role in MANAGERS,
                           concerns=held.concerns, restrictions=held.restrictions)


def _back(customer_id: int) -> str:
    return url_for("pages.register_customer", customer_id=customer_id)


@bp.post("/register/customers/<int:customer_id>/phones")
@page_roles(Role.PANEL_MEMBER, Role.LINE_MANAGER, Role.ADMIN)
def register_add_phone(customer_id):
    def action(s):
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        numbers = phones_e164([form_body(PhoneIn).phone], current_app.config["DEFAULT_REGION"])
        attach_phones(s, customer, numbers)
        audit(s, current_staff(), "update", "customer", customer_id, utcnow(), phones_added=numbers)
        return numbers[0]

    return attempt(action, "Number {result} added.", _back(customer_id))


@bp.post("/register/customers/<int:customer_id>/concerns")
@page_roles(*MANAGERS)
def register_concern(customer_id):
    def action(s):
        now = utcnow()
        body = form_body(ConcernIn)
        return contact_restrictions.record_concern(s, customer_id, current_staff(), form_date("told_on", now),
                                                   body.channel, body.note, now)

    return attempt(action, "Recorded that the customer was told their conduct is a concern.", _back(customer_id))


@bp.post("/register/customers/<int:customer_id>/restrictions")
@page_roles(*MANAGERS)
def register_restrict(customer_id):
    form = request.form

    def action(s):
        kind = form.get("kind")
        officer = form.get("named_officer_id", "")
        hours = None
        if kind == "set_hours":
            days = [int(d) for d in form.getlist("days") if d.isdigit()]
            hours = {"days": days, "start": form.get("start", ""), "end": form.get("end", "")}
        if officer and form_id(officer) is None:
            raise InvalidInput("choose a named officer from the list")
        body = form_body(RestrictionIn, named_officer_id=form_id(officer), hours=hours)
        return contact_restrictions.add_restriction(s, customer_id, current_staff(), body.kind, body.detail,
                                                    body.named_officer_id, body.hours.model_dump() if body.hours
                                                    else None, utcnow())

    return attempt(action, "Restriction recorded: calls will be routed as it says.", _back(customer_id))


@bp.post("/register/restrictions/<int:restriction_id>/end")
@page_roles(*MANAGERS)
def register_end_restriction(restriction_id):
    customer_id = form_body(BackTo).customer_id
    back = _back(customer_id) if customer_id else url_for("pages.register_home")
    return attempt(lambda s: contact_restrictions.end_restriction(s, restriction_id, current_staff(), utcnow()),
                   "Restriction ended.", back)


@bp.get("/register/customers/<int:customer_id>/export.json")
@page_roles(Role.PANEL_MEMBER, Role.ADMIN)
def register_subject_access(customer_id):
    """R9: the subject-access export as a download (audited)."""
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            export = subject_access_json(register_privacy.subject_access(uow.session, customer_id, current_staff(),
                                                                         utcnow()))
            uow.commit()  # R9: the export is audited
    except DomainError as exc:
        return render_template("console/forbidden.html", roles=READERS, message=exc.message), exc.status
    return Response(json.dumps(export, indent=2, default=str), mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="customer-{customer_id}-subject-access.json"'})


@bp.get("/register/signals")
@page_roles(*READERS)
def register_signals():
    """R10/C2: repeat-caller and contact-volume signals (informing, never blocking)."""
    session = db_session()
    settings = org_settings.load(session)
    return render_template("register/signals.html", callers=signals.repeat_callers(session, utcnow(), settings),
                           thresholds=settings, viewer=current_staff())
