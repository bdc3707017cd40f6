"""`flask --app wsgi jobs sweep`: hand over outbox jobs that are due (also run by `rq cron`)."""
import click
from flask import current_app
from flask.cli import with_appcontext



@click.group("jobs", help="Background jobs.")
def group():
    pass


@group.command("sweep")
@with_appcontext
def sweep_cmd():
    """Hand over due jobs that are not yet with a worker."""
    click.echo(f"handed over {current_app.extensions['handover'].sweep()} job(s)")


@group.command("tick")
@click.option("--every", type=int, default=0, help="Repeat every N seconds (0: once).")
@with_appcontext
def tick_cmd(every):
    """Run the periodic checks (outbox sweep, deadlines) once, or every N seconds in the embedded default."""
    import time

    from workers.context import use
    from workers.jobs import tick

    use(current_app.extensions["handover"])
    while True:
        click.echo(f"tick: {tick()}")
        if not every:
            return
        time.sleep(every)
