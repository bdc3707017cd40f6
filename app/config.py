"""Configuration from the environment (CONTRACT "Configuration"); a `.env` file may supply it."""
import os
import secrets
from pathlib import Path

from call_flows.clock import DEFAULT_TIMEZONE, set_org_timezone

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


def normalise_database_url(url: str) -> str:
    """Accept postgres:// and postgresql:// URLs and use the installed psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_env(overrides: dict | None = None) -> dict:
    env = os.environ
    config = {
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{INSTANCE / 'callguard.sqlite3'}",
        "REDIS_URL": env.get("REDIS_URL") or None,
        "TWILIO_ACCOUNT_SID": env.get("TWILIO_ACCOUNT_SID") or None,
        "TWILIO_AUTH_TOKEN": env.get("TWILIO_AUTH_TOKEN") or None,
        "TWILIO_API_BASE_URL": env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com",
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL") or None,
        "DEFAULT_REGION": env.get("DEFAULT_REGION") or "GB",
        "TWILIO_CALLER_ID": env.get("TWILIO_CALLER_ID") or None,
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SMTP_URL": env.get("SMTP_URL") or None,
        "ORG_TIMEZONE": env.get("ORG_TIMEZONE") or DEFAULT_TIMEZONE,
        "DEVELOPMENT": env.get("CALLGUARD_ENV", "development") == "development",
        "RQ_QUEUE": env.get("RQ_QUEUE", "callguard"),
    }
    config.update(overrides or {})
    config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])
    set_org_timezone(config["ORG_TIMEZONE"])  # every day and week boundary (C2, R10, I8); a bad zone fails here
    if not config["SECRET_KEY"]:
        if not config["DEVELOPMENT"]:
            raise RuntimeError("SECRET_KEY is required outside development (CONTRACT)")
        config["SECRET_KEY"] = _development_secret()
    if not config["TWILIO_AUTH_TOKEN"]:
        # Simulated platform: webhooks are still signed and checked, with a local token.
        config["SIMULATED_AUTH_TOKEN"] = "simulated-" + config["SECRET_KEY"][:16]
    return config


def _development_secret() -> str:
    """A per-checkout secret kept under instance/, so sessions survive restarts in development."""
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()
