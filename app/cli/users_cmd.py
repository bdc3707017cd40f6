"""`flask --app wsgi users add|set-password|token|list|deactivate` (CONTRACT "Command line")."""
import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from pydantic import ValidationError
from sqlalchemy import select

from call_flows.staff import accounts, admin as staff_admin
from call_flows.clock import utcnow
from call_flows.errors import DomainError
from call_flows.models import ROLES, User
from call_flows.validation import message

from ..db import db_session, unit_of_work


@click.group("users", help="Staff accounts.")
def group():
    pass


def add_user(session, username: str, role: str, manager: str | None, team: str | None,
             phone: str | None, region: str, display_name: str | None = None) -> tuple[User, str]:
    """Create a user and return it with its new API token (only the hash is stored)."""
    try:
        new = staff_admin.NewUser.model_validate({"username": username, "role": role, "display_name": display_name,
                                                  "team": team, "manager": manager, "phone": phone})
        return staff_admin.create_user(session, new, region)
    except ValidationError as exc:
        raise click.BadParameter(message(exc)) from None
    except DomainError as exc:
        raise click.BadParameter(exc.message) from None


@group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice([r.value for r in ROLES]))
@click.option("--manager")
@click.option("--team")
@click.option("--phone")
@click.option("--name", "display_name", help="the name people see (the username stays for signing in)")
@with_appcontext
def add(username, role, manager, team, phone, display_name):
    """Create a user; prints the user's new API token as the last line."""
    with unit_of_work() as uow:
        user, token = add_user(uow.session, username, role, manager, team, phone,
                               current_app.config["DEFAULT_REGION"], display_name)
        uow.commit()
    click.echo(f"created {user.username} ({user.role})")
    click.echo(token)


def _user(session, username: str) -> User:
    try:
        return accounts.find_user(session, username)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@group.command("set-password")
@click.argument("username")
@with_appcontext
def set_password(username):
    """Set a password, read from standard input (first line). At least 12 characters and not a common
    or easily guessed password (call_flows.staff.passwords)."""
    user = _user(db_session(), username)
    password = sys.stdin.readline().rstrip("\r\n")
    with unit_of_work() as uow:
        try:
            ended = staff_admin.reset_password(uow.session, user, password, utcnow())
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
    click.echo(f"password set for {username}" + (f"; {ended} session(s) ended" if ended else ""))


@group.command("token")
@click.argument("username")
@click.option("--expires-in-days", type=click.IntRange(min=1), help="the token stops working after this many days")
@with_appcontext
def token(username, expires_in_days):
    """Issue a new API token, printed as the last line; the previous token stops working at once."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with unit_of_work() as uow:
        user = _user(uow.session, username)
        try:
            new = staff_admin.new_token(user, expires_at)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        uow.commit()
    click.echo(f"new token for {username}" + (f", expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""))
    click.echo(new)


@group.command("deactivate")
@click.argument("username")
@with_appcontext
def deactivate(username):
    """End every browser session and API token of USERNAME; they can no longer sign in."""
    with unit_of_work() as uow:
        user = _user(uow.session, username)
        ended = accounts.deactivate(uow.session, user, utcnow())
        uow.commit()
    click.echo(f"deactivated {username}: token revoked, {ended} session(s) ended")


@group.command("list")
@with_appcontext
def list_users():
    """One line per user: username, role, team, active or not, token state, live browser sessions, and the
    name people see (the display name, else the username)."""
    from ..auth import session_timeouts

    session = db_session()
    now, timeouts = utcnow(), session_timeouts()
    click.echo(f"{'username':20} {'role':13} {'team':20} {'status':11} {'token':22} {'sessions':8} name")
    for user in session.scalars(select(User).order_by(User.username)):
        token_state = staff_admin.token_state(user, now)
        status = "active" if user.active else "deactivated"
        team = user.team.name if user.team else "-"
        live = accounts.live_sessions(session, user.id, now, timeouts)
        click.echo(f"{user.username:20} {user.role:13} {team:20} {status:11} {token_state:22} {live:<8} "
                   f"{user.shown_name}")
