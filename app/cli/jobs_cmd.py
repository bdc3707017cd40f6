"""`flask --app wsgi jobs sweep`: hand over outbox jobs that are due (also run by `rq cron`)."""
import click
from flask import current_app
from flask.cli import with_appcontext

from ..jobs import sweep


@click.group("jobs", help="Background jobs.")
def group():
    pass


@group.command("sweep")
@with_appcontext
def sweep_cmd():
    """Hand over due jobs that are not yet with a worker."""
    click.echo(f"handed over {sweep(current_app._get_current_object())} job(s)")
