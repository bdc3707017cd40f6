"""`flask --app wsgi sim call|status|hear`: try every flow on one machine without Twilio.

`sim call` and `sim status` post signed webhooks to the running service (`--url`, default
`http://127.0.0.1:$PORT`), as Twilio would, so its open consoles and boards update at once."""
import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from call_flows.models import PlatformAction
from call_flows.vocabulary import CallStatus, ENDED

from ..db import db_session
from ..simulator import ServiceNotRunning, new_call_sid, post_to_service, service_url

URL_OPTION = click.option("--url", default=None, metavar="URL",
                          help="The running service (default http://127.0.0.1:$PORT, PORT defaulting to 5000).")


def _post(path: str, params: dict, url: str | None):
    base = url or service_url()
    try:
        return post_to_service(current_app._get_current_object(), base, path, params)  # type: ignore[attr-defined]  # the proxy's target
    except ServiceNotRunning:
        raise click.ClickException(
            f"callguard is not running at {base}. Start it with ./scripts/serve.sh (it listens on PORT, "
            "default 5000), or give its address with --url.") from None


@click.group("sim", help="The simulated call platform (embedded default).")
def group():
    pass


@group.command("call")
@click.argument("caller")
@click.option("--to", "called", default="+441632960000", help="The organisation's number that was dialled.")
@URL_OPTION
@with_appcontext
def call(caller, called, url):
    """Place a simulated inbound call from CALLER at the running service; prints its CallSid and
    the TwiML answered."""
    sid = new_call_sid()
    response = _post("/twilio/voice/inbound", {"CallSid": sid, "From": caller, "To": called, "CallStatus": CallStatus.RINGING,
                                               "Direction": "inbound", "AccountSid": "ACsimulated"}, url)
    if response.status_code != 200:
        raise click.ClickException(f"the service answered {response.status_code}: {response.text[:200]}")
    click.echo(f"CallSid {sid}")
    click.echo(response.text)


@group.command("status")
@click.argument("call_sid")
@click.argument("status", type=click.Choice([s.value for s in (CallStatus.IN_PROGRESS, *ENDED)]))
@click.option("--duration", default=None)
@URL_OPTION
@with_appcontext
def status(call_sid, status, duration, url):
    """Send a signed status callback for CALL_SID to the running service."""
    params = {"CallSid": call_sid, "CallStatus": status}
    if duration:
        params["CallDuration"] = duration
    response = _post("/twilio/voice/status", params, url)
    click.echo(f"status callback answered {response.status_code}")


@group.command("hear")
@click.argument("call_sid")
@with_appcontext
def hear(call_sid):
    """What the platform was asked to play on CALL_SID (warnings, the final notice)."""
    for action in db_session().scalars(select(PlatformAction).where(PlatformAction.call_sid == call_sid)
                                       .order_by(PlatformAction.id)):
        click.echo(f"{action.created_at:%H:%M:%S} {action.action}: {action.payload.get('twiml', action.payload)}")
