"""`flask --app wsgi sim call|status|hear`: try every flow on one machine without Twilio."""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from call_flows.models import PlatformAction

from ..db import db_session
from ..simulator import new_call_sid, signed_post


@click.group("sim", help="The simulated call platform (embedded default).")
def group():
    pass


@group.command("call")
@click.argument("caller")
@click.option("--to", "called", default="+441632960000", help="The organisation's number that was dialled.")
@with_appcontext
def call(caller, called):
    """Place a simulated inbound call from CALLER; prints its CallSid and the TwiML answered."""
    app = current_app._get_current_object()
    sid = new_call_sid()
    response = signed_post(app, app.test_client(), "/twilio/voice/inbound",
                           {"CallSid": sid, "From": caller, "To": called, "CallStatus": "ringing",
                            "Direction": "inbound", "AccountSid": "ACsimulated"})
    click.echo(f"CallSid {sid}")
    click.echo(response.get_data(as_text=True))


@group.command("status")
@click.argument("call_sid")
@click.argument("status", type=click.Choice(["in-progress", "completed", "busy", "failed", "no-answer", "canceled"]))
@click.option("--duration", default=None)
@with_appcontext
def status(call_sid, status, duration):
    """Send a signed status callback for CALL_SID."""
    app = current_app._get_current_object()
    params = {"CallSid": call_sid, "CallStatus": status}
    if duration:
        params["CallDuration"] = duration
    response = signed_post(app, app.test_client(), "/twilio/voice/status", params)
    click.echo(f"status callback answered {response.status_code}")


@group.command("hear")
@click.argument("call_sid")
@with_appcontext
def hear(call_sid):
    """What the platform was asked to play on CALL_SID (warnings, the final notice)."""
    for action in db_session().scalars(select(PlatformAction).where(PlatformAction.call_sid == call_sid)
                                       .order_by(PlatformAction.id)):
        click.echo(f"{action.created_at:%H:%M:%S} {action.action}: {action.payload.get('twiml', action.payload)}")
