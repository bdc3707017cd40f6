"""`flask --app wsgi demo setup`: a demo team for the embedded default (prints tokens and passwords)."""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from call_flows.models import User
from call_flows.staff.passwords import hash_password
from call_flows.vocabulary import Role

from ..db import db_session, unit_of_work
from .users_cmd import add_user

DEMO = [  # username, role, manager, team, phone
    ("manager", Role.LINE_MANAGER, None, "Passports North", "+447700900001"),
    ("handler", Role.CALL_HANDLER, "manager", "Passports North", "+447700900002"),
    (Role.SUPERVISOR, Role.SUPERVISOR, None, "Passports North", None),
    ("panel", Role.PANEL_MEMBER, None, None, None),
    (Role.ADMIN, Role.ADMIN, None, None, None),
    ("other_manager", Role.LINE_MANAGER, None, "Council South", "+447700900003"),
    ("other_handler", Role.CALL_HANDLER, "other_manager", "Council South", None),
]
DEMO_PASSWORD = "callguard-demo"


@click.group("demo", help="Demo data for trying the service on one machine.")
def group():
    pass


@group.command("setup")
@with_appcontext
def setup():
    """Create the demo users once (a second run changes nothing) and print their API tokens.
    Refused in production: the demo password is published."""
    if not current_app.config["DEVELOPMENT"]:
        raise click.ClickException("demo setup is refused in production (CALLGUARD_ENV=production): "
                                   "the demo password is published. Create users with `users add`.")
    if db_session().scalar(select(User).where(User.username == "manager")):
        click.echo("demo users already exist (tokens are only shown when created)")
        return
    with unit_of_work() as uow:
        for username, role, manager, team, phone in DEMO:
            user, token = add_user(uow.session, username, role, manager, team, phone,
                                   current_app.config["DEFAULT_REGION"])
            user.password_hash = hash_password(DEMO_PASSWORD)
            click.echo(f"{username:14} {role:13} token {token}")
        uow.commit()
    click.echo(f"every demo user's password is {DEMO_PASSWORD!r}")
