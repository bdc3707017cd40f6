"""The caution register's JSON API (R3-R9): proposals, panel decisions, letters, reviews and appeals.

Views are thin: parse the body with its pydantic model, call one service, commit (which also keeps
the R9 audit rows of a read) and answer JSON. Customers, restrictions and signals are in
register_customers.py.
"""
from flask import current_app, jsonify

from call_flows.register import letters as register_letters, panel as register_panel, privacy as register_privacy, reviews as register_reviews
from call_flows import settings as org_settings
from call_flows.clock import iso_utc, utcnow
from call_flows.register.shown import entries_shown
from call_flows.vocabulary import PANEL, REGISTER_READERS as READERS, Role

from ..auth import current_staff, roles_required
from ..db import db_session, unit_of_work
from ..forms import query_args
from ..openapi import operation
from . import bp, shapes
from .shapes_register import entry_json, entry_summary_json, letter_json, review_due_json
from .register_schemas import (AppealIn, AppealOutcomeIn, DecisionIn, ExemptionIn, LetterSentIn, ProposalIn,
                               RegisterQuery, RegisterReviewIn, ReviewIn, TemplateIn, utc)



def _entry_view(session, entry_id: int) -> dict:
    """The entry as its reader may see it, after the act that changed it (its R9 audit row is committed
    with the act)."""
    return entry_json(register_privacy.entry_view(session, entry_id, current_staff(), utcnow()))


def _act_on_entry(entry_id: int, act, status: int = 200):
    """Run `act(session)` in a unit of work and answer the entry as it is after it, committed with the
    act and its R9 audit row (the write path of every register act below)."""
    with unit_of_work() as uow:
        act(uow.session)
        view = _entry_view(uow.session, entry_id)
        uow.commit()
    return jsonify(view), status


@bp.post("/register/proposals")
@roles_required(Role.LINE_MANAGER, Role.ADMIN)
@operation("Propose a register entry from an incident record (R3)", ProposalIn,
           {"201": "the proposed entry, with the panel's meeting deadline"})
def propose_entry(body: ProposalIn):
    with unit_of_work() as uow:
        entry = register_panel.propose(uow.session, current_staff(), register_panel.Proposal(**body.model_dump()),
                                       utcnow(), org_settings.load(uow.session), current_app.config["DEFAULT_REGION"])
        uow.commit()
    return jsonify({"id": entry.id, "status": entry.status, "customer_id": entry.customer_id,
                    "meet_by": iso_utc(entry.meet_by)}), 201


@bp.get("/register/proposals")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("Proposals awaiting the panel, nearest deadline first (R3)")
def list_proposals():
    with unit_of_work() as uow:
        rows = register_panel.proposals(uow.session, current_staff(), utcnow())
        uow.commit()  # R9: the listing is audited
    return jsonify({"proposals": [shapes.pending_json(p) for p in rows]})


@bp.get("/register/entries")
@roles_required(*READERS)
@operation("The register (?status=), audited (R9)", query=RegisterQuery)
def list_entries():
    status = query_args(RegisterQuery).status
    with unit_of_work() as uow:
        rows = register_privacy.list_entries(uow.session, current_staff(), utcnow(), status)
        uow.commit()  # R9: the listing is audited
    return jsonify({"entries": [entry_summary_json(r) for r in rows]})


@bp.get("/register/entries/<int:entry_id>")
@roles_required(*READERS)
@operation("One entry as the role may see it, audited (R9)")
def get_entry(entry_id):
    with unit_of_work() as uow:
        view = _entry_view(uow.session, entry_id)
        uow.commit()
    return jsonify(view)


@bp.post("/register/entries/<int:entry_id>/decision")
@roles_required(*PANEL)
@operation("The panel's decision: at least 3 members present with the chair (R3), marker (R2), precautions, "
           "justification, sharing (R7)", DecisionIn, {"201": "the entry, awaiting its letter"})
def decide_entry(entry_id, body: DecisionIn):
    decision = register_panel.Decision(**body.model_dump())
    return _act_on_entry(entry_id, lambda session: register_panel.decide(
        session, entry_id, decision, current_staff(), utcnow(), org_settings.load(session)), 201)


@bp.get("/register/entries/<int:entry_id>/letter")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("The customer's letter (R5); print_url is print-ready HTML")
def get_letter(entry_id):
    with unit_of_work() as uow:
        letter = register_letters.letter_for(uow.session, entry_id, current_staff(), utcnow(),
                                             org_settings.load(uow.session))
        uow.commit()  # R9: viewing the letter is audited
    return jsonify(letter_json(letter))


@bp.post("/register/entries/<int:entry_id>/letter/sent")
@roles_required(*PANEL)
@operation("The letter was sent: the entry takes effect (R5, R6)", LetterSentIn)
def letter_sent(entry_id, body: LetterSentIn):
    return _act_on_entry(entry_id, lambda session: register_letters.record_sent(
        session, entry_id, current_staff(), utcnow(), org_settings.load(session), utc(body.sent_at)))


@bp.post("/register/entries/<int:entry_id>/letter/exemption")
@roles_required(*PANEL)
@operation("Documented exemption from the letter (R5): the entry takes effect", ExemptionIn)
def letter_exemption(entry_id, body: ExemptionIn):
    return _act_on_entry(entry_id, lambda session: register_letters.record_exemption(
        session, entry_id, current_staff(), body.reason, body.justification, utcnow()))


@bp.get("/register/letter-template")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("The letter template and its placeholders (R5)")
def get_template():
    settings = org_settings.load(db_session(), fresh=True)
    return jsonify({"template": register_letters.template_text(settings),
                    "required_placeholders": register_letters.REQUIRED,
                    "optional_placeholders": list(register_letters.OPTIONAL)})


@bp.put("/register/letter-template")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("Change the letter template; every R5 element must stay (R5)", TemplateIn)
def put_template(body: TemplateIn):
    from call_flows.calls.callers import audit

    text = register_letters.validate_template(body.template)
    with unit_of_work() as uow:
        org_settings.save(uow.session, "register_letter_template", text)
        audit(uow.session, current_staff(), "update", "letter_template", None, utcnow())
        uow.commit()
    return jsonify({"template": text})


@bp.post("/register/entries/<int:entry_id>/reviews")
@roles_required(*PANEL)
@operation("Review an entry: keep or remove (R6)", ReviewIn, {"201": "the entry after review"})
def review_entry(entry_id, body: ReviewIn):
    return _act_on_entry(entry_id, lambda session: register_reviews.review_entry(
        session, entry_id, current_staff(), body.outcome, body.notes, utcnow()), 201)


@bp.get("/register/reviews/due")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("Entries due for review and the register review date (R6)")
def reviews_due():
    now = utcnow()
    with unit_of_work() as uow:
        session = uow.session
        due = register_reviews.reviews_due(session, now)
        entries_shown(session, current_staff(), [row.id for row in due], now, "reviews_due")  # R9
        body = {"entries": [review_due_json(d) for d in due],
                "register_review_due": iso_utc(register_reviews.register_review_due(session, now)),
                "last_register_review": iso_utc(register_reviews.last_register_review(session))}
        uow.commit()
    return jsonify(body)


@bp.post("/register/reviews")
@roles_required(*PANEL)
@operation("Record the six-monthly review of the whole register (R6)", RegisterReviewIn, {"201": "the review"})
def review_register(body: RegisterReviewIn):
    with unit_of_work() as uow:
        review = register_reviews.review_register(uow.session, current_staff(), body.notes, utcnow())
        uow.commit()
    return jsonify({"id": review.id, "reviewed_at": iso_utc(review.reviewed_at)}), 201


@bp.post("/register/entries/<int:entry_id>/appeals")
@roles_required(Role.PANEL_MEMBER, Role.ADMIN)
@operation("Record an appeal, due in 20 working days (R8)", AppealIn, {"201": "the appeal"})
def record_appeal(entry_id, body: AppealIn):
    now = utcnow()
    with unit_of_work() as uow:
        appeal = register_reviews.record_appeal(uow.session, entry_id, current_staff(), utc(body.received_at) or now,
                                                body.summary, now, org_settings.load(uow.session))
        uow.commit()
    return jsonify(_appeal_out(appeal)), 201


@bp.post("/register/appeals/<int:appeal_id>/outcome")
@roles_required(*PANEL)
@operation("An appeal's outcome; upheld removes the entry (R8)", AppealOutcomeIn)
def appeal_outcome(appeal_id, body: AppealOutcomeIn):
    with unit_of_work() as uow:
        appeal = register_reviews.decide_appeal(uow.session, appeal_id, current_staff(), body.outcome, body.notes,
                                                utcnow())
        uow.commit()
    return jsonify(_appeal_out(appeal))


def _appeal_out(appeal) -> dict:
    return {"id": appeal.id, "entry_id": appeal.entry_id, "received_at": iso_utc(appeal.received_at),
            "due_at": iso_utc(appeal.due_at), "outcome": appeal.outcome, "decided_at": iso_utc(appeal.decided_at)}
