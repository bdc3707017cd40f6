"""Incident records (I1-I7): read, fill in, complete (distributes, I4), acknowledge (I3), police decision (I7).
There is no way to delete one (I6)."""
from flask import jsonify

from call_flows.incidents import deadlines, records as incident_records
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.jobs.mail import deliveries_for
from call_flows.models.incidents_extra import IncidentNotDeletable
from call_flows.vocabulary import Role

from ..auth import current_staff, roles_required
from ..db import db_session, unit_of_work
from ..openapi import operation
from . import bp
from .callback_schemas import IncidentIn, PoliceDecisionIn
from .shapes import delivery_json, incident_json


def _one(incident):
    return jsonify({**incident_json(incident),
                    "deliveries": [delivery_json(d) for d in deliveries_for(db_session(), incident.id)]})


@bp.get("/incidents")
@roles_required()
@operation("Incident records you work on, and those awaiting your acknowledgement", who="staff")
def list_incidents():
    user = current_staff()
    session = db_session()
    return jsonify({"incidents": [incident_json(i) for i in incident_records.visible(session, user)],
                    "to_acknowledge": [i.id for i in incident_records.to_acknowledge(session, user)]})


@bp.get("/incidents/<int:incident_id>")
@roles_required()
@operation("One incident record with its email deliveries", who="staff who may see it")
def get_incident(incident_id):
    return _one(incident_records.get(db_session(), incident_id, current_staff()))


@bp.put("/incidents/<int:incident_id>")
@roles_required()
@operation("Fill in the record: I1 fields, RIDDOR, breach, I3 welfare steps (I2)", IncidentIn, who="staff who may see "
           "it")
def save_incident(incident_id, body: IncidentIn):
    with unit_of_work() as uow:
        incident = incident_records.save(uow.session, incident_id, current_staff(),
                                         body.model_dump(exclude_unset=True), utcnow())
        uow.commit()
    return _one(incident)


@bp.post("/incidents/<int:incident_id>/complete")
@roles_required(Role.LINE_MANAGER)
@operation("Complete and distribute the record (I4)")
def complete_incident(incident_id):
    with unit_of_work() as uow:
        incident = incident_records.complete(uow.session, incident_id, current_staff(), utcnow(),
                                             org_settings.load(uow.session))
        uow.commit()
        uow.session.refresh(incident)
    return _one(incident)


@bp.post("/incidents/<int:incident_id>/acknowledge")
@roles_required()
@operation("The staff member reads and signs the completed record (I3)", responses={"200": "the record",
           "409": "incident_not_completed: still open"}, who="the staff member")
def acknowledge_incident(incident_id):
    with unit_of_work() as uow:
        incident = incident_records.acknowledge(uow.session, incident_id, current_staff(), utcnow())
        uow.commit()
    return _one(incident)


@bp.post("/incidents/<int:incident_id>/police-decision")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
@operation("Record the senior officer's decision about the police (I7)", PoliceDecisionIn)
def police_decision(incident_id, body: PoliceDecisionIn):
    with unit_of_work() as uow:
        incident = deadlines.record_police_decision(uow.session, incident_id, current_staff(), body.decision,
                                                    body.note, utcnow(), org_settings.load(uow.session))
        uow.commit()
    return _one(incident)


@bp.delete("/incidents/<int:incident_id>")
@roles_required()
@operation("Refused: incident records are never deleted (I6)", responses={"405": "incident_not_deletable"},
           who="nobody")
def delete_incident(incident_id):
    raise IncidentNotDeletable("I6: incident records are never deleted; complete the record instead")
