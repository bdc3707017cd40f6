"""R9 data protection: subject-access export, an audit log nobody edits, and the retention purge."""
from datetime import timedelta

from sqlalchemy import func, select

from app.db import db_session
from call_flows.clock import utcnow
from call_flows.models import AuditLog, Customer, CustomerPhone, PanelDecision, RegisterCount, RegisterEntry
from tests.register_helpers import CALLER, in_force, panel
from workers.register_jobs import register_retention


def _customer_id(client, entry_id, member):
    return client.get(f"/api/v1/register/entries/{entry_id}", headers=member["headers"]).get_json()["customer_id"]


def test_r9_subject_access_export_gives_everything_held_and_is_audited(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members, case_references=["PP-9"])
    customer_id = _customer_id(client, entry_id, members[0])
    client.post(f"/api/v1/register/customers/{customer_id}/concerns", headers=team["manager"]["headers"],
                json={"channel": "letter", "note": "Told conduct is a concern"})
    client.post(f"/api/v1/register/customers/{customer_id}/restrictions", headers=team["manager"]["headers"],
                json={"kind": "written_only"})
    client.post(f"/api/v1/register/entries/{entry_id}/appeals", headers=members[0]["headers"], json={"summary": "No"})
    assert client.get(f"/api/v1/register/customers/{customer_id}/export",
                      headers=team["handler"]["headers"]).status_code == 403
    response = client.get(f"/api/v1/register/customers/{customer_id}/export", headers=members[1]["headers"])
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    export = response.get_json()
    assert export["customer"]["name"] == "Alex Example" and export["customer"]["case_references"] == ["PP-9"]
    assert export["phones"] == [CALLER]
    assert [e["id"] for e in export["register_entries"]] == [entry_id]
    assert export["panel_decisions"][0]["justification"].startswith("Threat of harm")
    assert "Pat Chair" in export["letters"][0]["body"]
    assert export["appeals"][0]["summary"] == "No"
    assert export["restrictions"][0]["kind"] == "written_only"
    assert export["concern_notices"][0]["channel"] == "letter"
    assert {row["action"] for row in export["access_log"]} >= {"create", "decide", "letter_sent", "view"}
    with app.app_context():
        exported = db_session().scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "export", AuditLog.entity_id == customer_id, AuditLog.actor_id == members[1]["id"]))
    assert exported == 1


def test_r9_the_audit_log_cannot_be_changed_through_the_service(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule]
    assert rules == []  # no route reads, edits or deletes audit rows
    with app.app_context():
        before = db_session().scalars(select(AuditLog.id).order_by(AuditLog.id)).all()
    client.get("/api/v1/register/entries", headers=members[0]["headers"])
    with app.app_context():
        after = db_session().scalars(select(AuditLog.id).order_by(AuditLog.id)).all()
        added = db_session().execute(select(AuditLog.entity, AuditLog.entity_id).where(AuditLog.id > before[-1])
                                     .order_by(AuditLog.id)).all()
    assert after[:len(before)] == before  # nothing changed or removed
    assert [tuple(row) for row in added] == [("register", None), ("register_entry", entry_id)]  # listing + entry shown


def test_r9_retention_purge_removes_personal_data_and_leaves_anonymised_counts(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    customer_id = _customer_id(client, entry_id, members[0])
    removed = client.post(f"/api/v1/register/entries/{entry_id}/reviews", headers=members[0]["headers"],
                          json={"outcome": "remove", "notes": "Resolved"})
    assert removed.status_code == 201
    with app.app_context():
        audit_rows = db_session().scalar(select(func.count()).select_from(AuditLog))
    assert register_retention(app.extensions["handover"],
                              utcnow() + timedelta(days=300)) == {"entries": 0, "customers": 0}
    result = register_retention(app.extensions["handover"], utcnow() + timedelta(days=366))
    assert result == {"entries": 1, "customers": 1}
    with app.app_context():
        s = db_session()
        assert s.get(RegisterEntry, entry_id) is None and s.get(Customer, customer_id) is None
        assert s.scalar(select(func.count()).select_from(CustomerPhone)) == 0
        assert s.scalar(select(func.count()).select_from(PanelDecision)) == 0
        assert s.scalar(select(func.count()).select_from(AuditLog)) == audit_rows + 1  # kept, plus the purge
    counts = client.get("/api/v1/register/counts", headers=team["manager"]["headers"]).get_json()["counts"]
    assert counts == [{"month": utcnow().strftime("%Y-%m"), "marker": 2, "source": "own",
                       "final_status": "removed", "count": 1}]
    assert register_retention(app.extensions["handover"],
                              utcnow() + timedelta(days=400)) == {"entries": 0, "customers": 0}


def test_r9_purge_keeps_a_customer_who_still_has_an_entry_in_force(app, client, ring, team, staff):
    members = panel(staff)
    entry_id = in_force(client, ring, team, members)
    with app.app_context():
        s = db_session()
        entry = s.get(RegisterEntry, entry_id)
        old = RegisterEntry(customer_id=entry.customer_id, status="expired", marker=3, source="partner",
                            notified=True, created_at=utcnow() - timedelta(days=900),
                            ended_at=utcnow() - timedelta(days=400), end_reason="expiry")
        s.add(old)
        s.commit()
        old_id = old.id
    assert register_retention(app.extensions["handover"], utcnow()) == {"entries": 1, "customers": 0}
    with app.app_context():
        s = db_session()
        assert s.get(RegisterEntry, old_id) is None and s.get(RegisterEntry, entry_id).status == "in_force"
        assert s.scalar(select(RegisterCount.count).where(RegisterCount.final_status == "expired")) == 1
    flags = client.get(f"/api/v1/callers/{CALLER}", headers=team["manager"]["headers"]).get_json()
    assert flags["register"]["marker"] == 2
