"""Builds the call platform for this configuration: Twilio when credentials are set, else simulated."""
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from call_flows.platform.faults import HeaderKeepingHttpClient
from call_flows.platform.protocol import CallPlatform
from call_flows.platform.simulated import SimulatedPlatform
from call_flows.platform.twilio_rest import TwilioPlatform


TWILIO_TIMEOUT_S = 10  # a hung Twilio request fails (and its outbox job is retried) instead of holding a worker


def make_platform(config: dict) -> CallPlatform:
    # URLs handed to the platform (conference events, whisper, callback legs): PUBLIC_BASE_URL, else the
    # embedded default's own address (PORT, as scripts/serve.sh listens)
    base = config.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{config.get('PORT') or 5000}"
    if config.get("TWILIO_ACCOUNT_SID") and config.get("TWILIO_AUTH_TOKEN"):
        client = Client(config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"],
                        http_client=HeaderKeepingHttpClient(config.get("TWILIO_HTTP_CLIENT")
                                                            or TwilioHttpClient(timeout=TWILIO_TIMEOUT_S)))
        # Only the Api domain (Calls, Conferences, Participants) moves to the stand-in (CONTRACT).
        client.api.base_url = config["TWILIO_API_BASE_URL"].rstrip("/")
        return TwilioPlatform(client, config.get("TWILIO_CALLER_ID"), base)
    return SimulatedPlatform(config.get("TWILIO_CALLER_ID"), base)


def webhook_auth_token(config: dict) -> str:
    """The token webhooks are signed with: Twilio's, or the simulated platform's local one."""
    return config.get("TWILIO_AUTH_TOKEN") or config["SIMULATED_AUTH_TOKEN"]
