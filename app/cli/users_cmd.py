"""`flask --app wsgi users add|set-password`."""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from call_flows.errors import InvalidPhone
from call_flows.models import ROLES, Team, User
from call_flows.phone import to_e164

from ..auth import new_token
from ..db import db_session


@click.group("users", help="Staff accounts.")
def group():
    pass


def add_user(session, username: str, role: str, manager: str | None, team: str | None,
             phone: str | None, region: str) -> tuple[User, str]:
    """Create a user and return it with its new API token (only the hash is stored)."""
    if role not in ROLES:
        raise click.BadParameter(f"role must be one of {', '.join(ROLES)}")
    if session.scalar(select(User).where(User.username == username)):
        raise click.BadParameter(f"user {username} already exists")
    manager_row = None
    if manager:
        manager_row = session.scalar(select(User).where(User.username == manager))
        if manager_row is None:
            raise click.BadParameter(f"no manager {manager}")
    team_row = None
    if team:
        team_row = session.scalar(select(Team).where(Team.name == team)) or Team(name=team)
        session.add(team_row)
        session.flush()
    if phone and not phone.startswith("client:"):
        try:
            phone = to_e164(phone, region)
        except InvalidPhone as exc:
            raise click.BadParameter(exc.message) from None
    token, token_hash = new_token()
    user = User(username=username, role=role, manager_id=manager_row.id if manager_row else None,
                team_id=team_row.id if team_row else (manager_row.team_id if manager_row else None),
                phone=phone, token_hash=token_hash, active=True)
    session.add(user)
    session.flush()
    return user, token


@group.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--manager")
@click.option("--team")
@click.option("--phone")
@with_appcontext
def add(username, role, manager, team, phone):
    """Create a user; prints the user's new API token as the last line."""
    session = db_session()
    user, token = add_user(session, username, role, manager, team, phone, current_app.config["DEFAULT_REGION"])
    session.commit()
    click.echo(f"created {user.username} ({user.role})")
    click.echo(token)


@group.command("set-password")
@click.argument("username")
@with_appcontext
def set_password(username):
    """Set a password, read from standard input."""
    session = db_session()
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no user {username}")
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise click.BadParameter("a password needs at least 8 characters")
    user.password_hash = generate_password_hash(password)
    session.commit()
    click.echo(f"password set for {username}")
