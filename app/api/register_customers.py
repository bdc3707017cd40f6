"""Customers on the register: numbers (R4), subject-access export (R9), concerns and restrictions (C1),
repeat-caller signals (R10, C2) and the anonymised counts left by the retention purge."""
from flask import current_app, jsonify

from call_flows.register import restrictions as contact_restrictions, privacy as register_privacy
from call_flows.calls import signals
from call_flows import settings as org_settings
from call_flows.calls.callers import audit
from call_flows.clock import iso_utc, utcnow
from call_flows.errors import NotFound
from call_flows.models import Customer
from call_flows.register.panel import attach_phones, phones_e164
from call_flows.vocabulary import MANAGERS, REGISTER_READERS as SIGNAL_READERS, Role

from ..auth import current_staff, roles_required
from ..db import db_session, unit_of_work
from ..openapi import operation
from . import bp, shapes
from .shapes_register import subject_access_json
from .register_schemas import ConcernIn, PhoneIn, RestrictionIn, utc



def _restriction_out(r) -> dict:
    return {"id": r.id, "customer_id": r.customer_id, "kind": r.kind, "detail": r.detail,
            "named_officer_id": r.named_officer_id, "hours": r.hours, "status": r.status,
            "customer_told_at": iso_utc(r.customer_told_at)}


@bp.post("/register/customers/<int:customer_id>/phones")
@roles_required(Role.PANEL_MEMBER, Role.LINE_MANAGER, Role.ADMIN)
@operation("Add a number to a customer (R4)", PhoneIn, {"201": "added", "200": "already the customer's"})
def add_phone(customer_id, body: PhoneIn):
    """R4: another number for the same customer; ring time finds the entry from any of them."""
    with unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        numbers = phones_e164([body.phone], current_app.config["DEFAULT_REGION"])
        added = attach_phones(uow.session, customer, numbers)
        audit(uow.session, current_staff(), "update", "customer", customer_id, utcnow(), phones_added=added)
        uow.commit()
    return jsonify({"customer_id": customer_id, "phone": numbers[0], "added": bool(added)}), 201 if added else 200


@bp.get("/register/customers/<int:customer_id>/export")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("Subject-access export: everything held (R9)")
def subject_access(customer_id):
    """R9: everything held about the customer (the export itself is audited)."""
    with unit_of_work() as uow:
        export = subject_access_json(register_privacy.subject_access(uow.session, customer_id, current_staff(),
                                                                     utcnow()))
        uow.commit()
    response = jsonify(export)
    response.headers["Content-Disposition"] = f'attachment; filename="customer-{customer_id}-subject-access.json"'
    return response


@bp.post("/register/customers/<int:customer_id>/concerns")
@roles_required(*MANAGERS)
@operation("The customer was told their conduct is a concern (C1)", ConcernIn, {"201": "the notice"})
def record_concern(customer_id, body: ConcernIn):
    now = utcnow()
    with unit_of_work() as uow:
        notice = contact_restrictions.record_concern(uow.session, customer_id, current_staff(),
                                                     utc(body.told_at) or now, body.channel, body.note, now)
        uow.commit()
    return jsonify({"id": notice.id, "customer_id": customer_id, "told_at": notice.told_at.isoformat(),
                    "channel": notice.channel}), 201


@bp.post("/register/customers/<int:customer_id>/restrictions")
@roles_required(*MANAGERS)
@operation("Restrict contact; 409 customer_not_told without a concern notice (C1, C3)", RestrictionIn,
           {"201": "the restriction"})
def add_restriction(customer_id, body: RestrictionIn):
    """C1: refused with 409 customer_not_told until a concern notice is recorded."""
    with unit_of_work() as uow:
        restriction = contact_restrictions.add_restriction(
            uow.session, customer_id, current_staff(), body.kind, body.detail, body.named_officer_id,
            body.hours.model_dump() if body.hours else None, utcnow())
        uow.commit()
    return jsonify(_restriction_out(restriction)), 201


@bp.post("/register/restrictions/<int:restriction_id>/end")
@roles_required(*MANAGERS)
@operation("End a contact restriction (C1)")
def end_restriction(restriction_id):
    with unit_of_work() as uow:
        restriction = contact_restrictions.end_restriction(uow.session, restriction_id, current_staff(), utcnow())
        uow.commit()
    return jsonify(_restriction_out(restriction))


@bp.get("/register/signals")
@roles_required(*SIGNAL_READERS)
@operation("Repeat-caller (R10) and contact-volume (C2) signals with thresholds")
def repeat_callers():
    """R10/C2: callers with repeat-caller or contact-volume signals; signals inform, never block."""
    session = db_session()
    settings = org_settings.load(session)
    return jsonify({"thresholds": shapes.thresholds_json(settings),
                    "callers": [shapes.caller_signals_json(r) for r in signals.repeat_callers(session, utcnow(), settings)]})


@bp.get("/register/counts")
@roles_required(*SIGNAL_READERS)
@operation("Anonymised counts left by the retention purge (R9)")
def anonymised_counts():
    """R9/I8: what the retention purge left behind, for trends."""
    return jsonify({"counts": [shapes.count_json(r) for r in register_privacy.counts(db_session())]})
