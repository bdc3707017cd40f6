"""Helpers for the console, board and trends tests (issue 6)."""
from datetime import datetime, time, timedelta, timezone

from werkzeug.security import generate_password_hash

from app.db import db_session
from call_flows.clock import utcnow
from call_flows.models import (Call, CallbackTask, CallWarning, Customer, CustomerPhone, Incident, RegisterEntry, Team,
                               Termination, User)
from call_flows.incidents.trends import week_of

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def monday_of(now: datetime) -> datetime:
    """00:30 UTC on the Monday of `now`'s week: the trends page reads the clock, so history is written
    relative to this week's Monday."""
    return datetime.combine(week_of(now), time(0, 30), tzinfo=timezone.utc)


def sign_in(app, client, username):
    with app.app_context():
        session = db_session()
        user = session.query(User).filter_by(username=username).one()
        user.password_hash = generate_password_hash("pw-for-tests")
        session.commit()
    response = client.post("/login", data={"username": username, "password": "pw-for-tests"})
    assert response.status_code == 302


def add_marker(app, phone, marker=1, precautions="Two officers"):
    now = utcnow()
    with app.app_context():
        session = db_session()
        customer = Customer(name="A Caller", created_at=now)
        session.add(customer)
        session.flush()
        session.add(CustomerPhone(customer_id=customer.id, phone=phone))
        session.add(RegisterEntry(customer_id=customer.id, status="in_force", marker=marker, precautions=precautions,
                                  expires_at=now + timedelta(days=300), created_at=now, added_on=now))
        session.commit()


def accept(client, sid, who):
    assert client.post(f"/api/v1/calls/{sid}/accept", headers=who["headers"]).status_code == 200


class History:
    """Writes calls, warnings, terminations, incidents and callbacks at chosen times."""

    def __init__(self, session, handler_id):
        self.session, self.handler_id, self.n = session, handler_id, 0

    def call(self, team, caller, at, warn=None, end=None, serious=False, incident_done=None, callback=None):
        self.n += 1
        call = Call(call_sid=f"CA{self.n:032d}", caller=caller, caller_kind="number", caller_raw=caller,
                    status="completed", started_at=at, handler_id=self.handler_id, team_id=team.id)
        self.session.add(call)
        self.session.flush()
        if warn:
            self.session.add(CallWarning(call_id=call.id, caller=caller, reason=warn, given_by_id=self.handler_id,
                                         created_at=at + timedelta(minutes=1)))
        incident = Incident(call_id=call.id, team_id=team.id, staff_id=self.handler_id, serious=serious, opened_at=at,
                            details={}, status="completed" if incident_done else "open",
                            completed_at=at + incident_done if incident_done else None)
        self.session.add(incident)
        self.session.flush()
        if end:
            self.session.add(Termination(call_id=call.id, caller=caller, reason=end, case_reference="X",
                                         immediate_reason="threat_of_violence" if serious else None,
                                         terminated_by_id=self.handler_id, created_at=at + timedelta(minutes=2),
                                         incident_id=incident.id))
        if callback is not None:
            self.session.add(CallbackTask(case_reference="X", caller=caller, call_id=call.id, team_id=team.id,
                                          status="closed" if callback else "open", need_arose_at=at,
                                          due_at=at + timedelta(hours=24),
                                          closed_at=at + callback if callback else None))


def seed(app, team):
    """Four calls over 20 weeks before this week's Monday (by the clock), in two teams."""
    monday = monday_of(utcnow())
    with app.app_context():
        session = db_session()
        north = session.query(Team).filter_by(name="Passports North").one()
        north.site = "Durham"
        south = Team(name="Benefits South", site="Leeds")
        session.add(south)
        session.flush()
        h = History(session, team["handler"]["id"])
        h.call(north, "+447700900001", monday, warn="abuse", end="abuse", incident_done=timedelta(hours=3),
               callback=timedelta(hours=2))
        h.call(north, "+447700900001", monday - timedelta(weeks=1), warn="abuse", callback=timedelta(hours=30))
        h.call(south, "+447700900002", monday - timedelta(weeks=2), warn="discrimination", end="threats",
               serious=True, callback=False)
        h.call(south, "+447700900003", monday - timedelta(weeks=20), warn="abuse")  # outside 12 weeks
        session.commit()
        return south.id


def queries_of(app, username: str, build):
    """`build(session, user, now, settings)` run as `username` (a board snapshot, a console state):
    its result and the SQL statements it sent, rolled back afterwards."""
    from sqlalchemy import event, select

    from call_flows import settings as org_settings

    with app.app_context():
        s = db_session()
        user = s.scalar(select(User).where(User.username == username))
        now, settings = utcnow(), org_settings.load(s)
        queries: list[str] = []

        def count(*args):
            queries.append(args[2])

        event.listen(s.get_bind(), "before_cursor_execute", count)
        try:
            shown = build(s, user, now, settings)
        finally:
            event.remove(s.get_bind(), "before_cursor_execute", count)
        s.rollback()
        return shown, queries


def ring_two_marked(app, ring) -> None:
    """Two callers on the register (R1 markers 1 and 2) ring, in that order."""
    add_marker(app, "+447700900555", marker=1)
    add_marker(app, "+447700900666", marker=2)
    ring("+447700900555")
    ring("+447700900666")
