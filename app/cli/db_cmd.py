"""`flask --app wsgi db upgrade`: create or migrate the schema with Alembic."""
from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import with_appcontext

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


@click.group("db", help="Database schema.")
def group():
    pass


@group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def upgrade_cmd(revision):
    """Create or migrate the schema to REVISION (default: the newest of every branch)."""
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo("database schema is up to date")
