"""Helpers for the console, board and trends tests (issue 6)."""
from datetime import timedelta

from werkzeug.security import generate_password_hash

from app.db import db_session
from call_flows.clock import utcnow
from call_flows.models import Customer, CustomerPhone, RegisterEntry, User

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


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
