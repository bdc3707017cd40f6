"""/incidents and /incidents/<id>: fill in and complete the record (I1-I4), the staff member's
acknowledgement in their own session (I3), the senior officer's police decision (I7), and the
status of each email sent about it. There is no delete (I6)."""
from flask import flash, redirect, render_template, url_for
from pydantic import create_model

from call_flows.incidents import deadlines, records as incident_records
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.errors import DomainError
from call_flows.jobs.mail import deliveries_for
from call_flows.models import ROLES, Call, User
from call_flows.vocabulary import Role

from ..api.callback_schemas import IncidentIn, PoliceDecisionIn
from ..auth import current_staff
from ..db import db_session, unit_of_work
from ..forms import Checkbox, form_body
from . import bp
from .live import page_roles


@bp.get("/incidents")
@page_roles(*ROLES)
def incidents_page():
    session = db_session()
    user = current_staff()
    return render_template("callbacks/incidents.html", incidents=incident_records.visible(session, user),
                           to_acknowledge=incident_records.to_acknowledge(session, user))


@bp.get("/incidents/<int:incident_id>")
@page_roles(*ROLES)
def incident_page(incident_id):
    return _record_page(incident_id)


def _record_page(incident_id, status=200):
    session = db_session()
    user = current_staff()
    try:
        incident = incident_records.get(session, incident_id, user)
    except DomainError as exc:
        return render_template("callbacks/incidents.html", incidents=[], to_acknowledge=[], missing=exc.message), 404
    staff = session.get(User, incident.staff_id) if incident.staff_id else None
    call = session.get(Call, incident.call_id) if incident.call_id else None
    return render_template("callbacks/incident.html", incident=incident, user=user, staff=staff, call=call,
                           details=incident.details or {}, labels=incident_records.LABELS,
                           prefill=incident_records.known_when(session, incident),
                           text_fields=incident_records.TEXT_FIELDS,
                           deliveries=deliveries_for(session, incident.id)), status


def _act(incident_id, message, *steps):
    """Run the service calls `steps`, each in a unit of work of its own (committed before the next
    one runs), then back to the record; a refusal rolls its step back and is shown on the record's
    page with the error's own status (e.g. 409), never a 500 and never a silent redirect."""
    try:
        user, now = current_staff(), utcnow()
        for step in steps:
            with unit_of_work() as uow:
                step(uow.session, user, now)
                uow.commit()
        flash(message, "ok")
    except DomainError as exc:
        flash(exc.message, "error")
        return _record_page(incident_id, status=exc.status)
    return redirect(url_for("pages.incident_page", incident_id=incident_id))


# The record's whole form (I1, I2): the API's model, each flag a checkbox (unticked: no).
IncidentForm = create_model("IncidentForm", __base__=IncidentIn,  # type: ignore[call-overload]
                            **{name: (Checkbox, False) for name in incident_records.FLAGS})


def _form_values() -> dict:
    """Every field of the record's form: text as sent (blank or left out clears it), each flag ticked or not."""
    return form_body(IncidentForm).model_dump()


@bp.post("/incidents/<int:incident_id>")
@page_roles(*ROLES)
def save_incident_page(incident_id):
    return _act(incident_id, "Record saved.",
                lambda s, u, now: incident_records.save(s, incident_id, u, _form_values(), now))


@bp.post("/incidents/<int:incident_id>/complete")
@page_roles(Role.LINE_MANAGER)
def complete_incident_page(incident_id):
    # Two steps, each committed: what the manager typed is kept even when the record cannot be completed yet.
    def save(session, user, now):
        incident_records.save(session, incident_id, user, _form_values(), now)

    def complete(session, user, now):
        incident_records.complete(session, incident_id, user, now, org_settings.load(session))
    return _act(incident_id, "Record completed and sent to the recipients (I4).", save, complete)


@bp.post("/incidents/<int:incident_id>/acknowledge")
@page_roles(*ROLES)
def acknowledge_incident_page(incident_id):
    return _act(incident_id, "Thank you: you have read and signed the record.",
                lambda s, u, now: incident_records.acknowledge(s, incident_id, u, now))


@bp.post("/incidents/<int:incident_id>/police-decision")
@page_roles(Role.SUPERVISOR, Role.ADMIN)
def police_decision_page(incident_id):
    def act(session, user, now):
        body = form_body(PoliceDecisionIn)
        deadlines.record_police_decision(session, incident_id, user, body.decision, body.note, now,
                                         org_settings.load(session))
    return _act(incident_id, "Decision about the police recorded.", act)
