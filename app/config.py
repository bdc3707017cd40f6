"""Configuration from the environment (CONTRACT "Configuration"); a `.env` file may supply it."""
import hashlib
import hmac
import os
import secrets
from datetime import timedelta
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
        "PORT": env.get("PORT") or "5000",  # embedded default: where the platform's callback URLs point
        "DEFAULT_REGION": env.get("DEFAULT_REGION") or "GB",
        "TWILIO_CALLER_ID": env.get("TWILIO_CALLER_ID") or None,
        "SECRET_KEY": env.get("SECRET_KEY") or None,
        "SMTP_URL": env.get("SMTP_URL") or None,
        "ORG_TIMEZONE": env.get("ORG_TIMEZONE") or DEFAULT_TIMEZONE,
        "DEVELOPMENT": env.get("CALLGUARD_ENV", "development") == "development",
        "RQ_QUEUE": env.get("RQ_QUEUE", "callguard"),
        "EVENTS_CHANNEL": env.get("EVENTS_CHANNEL") or "callguard:events",  # Redis pub/sub (server-wide, not per db)
        "OUTBOX_LEASE_S": int(env.get("OUTBOX_LEASE_S") or 0) or None,  # issue 12: tests shorten the claim's lease
        "OUTBOX_BACKOFF_S": int(env.get("OUTBOX_BACKOFF_S") or 0) or None,  # ... and the retry's backoff base
        "RECONCILE_AFTER_S": int(env["RECONCILE_AFTER_S"]) if env.get("RECONCILE_AFTER_S") else None,
        **_security_settings(env),
        **_sso_settings(env),
    }
    config.update(overrides or {})
    config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])
    set_org_timezone(config["ORG_TIMEZONE"])  # every day and week boundary (C2, R10, I8); a bad zone fails here
    if not config["SECRET_KEY"]:
        if not config["DEVELOPMENT"]:
            raise RuntimeError("SECRET_KEY is required outside development (CONTRACT)")
        config["SECRET_KEY"] = _development_secret()
    if not config["DEVELOPMENT"]:
        _refuse_unsafe_production(config)
    if not config["TWILIO_AUTH_TOKEN"]:
        # Simulated platform: webhooks are still signed and checked, with a local token derived from
        # SECRET_KEY by HMAC (it reveals nothing of the key itself).
        config["SIMULATED_AUTH_TOKEN"] = simulated_auth_token(config["SECRET_KEY"])
    return config


def simulated_auth_token(secret_key: str) -> str:
    """The simulated platform's webhook signing token: an HMAC of SECRET_KEY (reveals nothing of the key)."""
    return hmac.new(secret_key.encode(), b"callguard simulated webhooks", hashlib.sha256).hexdigest()


MIN_SECRET_KEY = 32


def _refuse_unsafe_production(config: dict) -> None:
    """12: production refuses a short SECRET_KEY and a simulated platform nobody asked for."""
    if len(config["SECRET_KEY"]) < MIN_SECRET_KEY:
        raise RuntimeError(f"SECRET_KEY must have at least {MIN_SECRET_KEY} characters in production "
                           "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
    simulated = config.get("CALLGUARD_PLATFORM") == "simulated"
    if not simulated and not (config["TWILIO_AUTH_TOKEN"] and config["TWILIO_ACCOUNT_SID"]):
        raise RuntimeError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required in production "
                           "(set CALLGUARD_PLATFORM=simulated to run the simulator on purpose)")
    if not simulated and not config["PUBLIC_BASE_URL"]:
        raise RuntimeError("PUBLIC_BASE_URL is required in production: Twilio is sent callback URLs under it "
                           "(conference events, the whisper, callback legs)")


def _security_settings(env) -> dict:
    """Sessions, sign-in throttle and request sizes (issue 10); README "Security and privacy"."""
    from call_flows.register.import_run import MAX_BYTES as IMPORT_BYTES

    max_hours = float(env.get("SESSION_MAX_HOURS") or 12)
    return {
        "CALLGUARD_PLATFORM": env.get("CALLGUARD_PLATFORM") or None,
        "SESSION_IDLE_TIMEOUT": timedelta(minutes=float(env.get("SESSION_IDLE_MINUTES") or 30)),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=max_hours),
        # A CSRF token is tied to its browser session and never outlives the session's absolute limit.
        "WTF_CSRF_TIME_LIMIT": int(max_hours * 3600),
        "LOGIN_LIMIT_ACCOUNT": env.get("LOGIN_LIMIT_ACCOUNT") or "10 per 15 minutes",
        "LOGIN_LIMIT_ADDRESS": env.get("LOGIN_LIMIT_ADDRESS") or "50 per 15 minutes",
        "TRUSTED_PROXY_HOPS": int(env.get("TRUSTED_PROXY_HOPS") or 0),
        "MAX_CONTENT_LENGTH": int(env.get("MAX_REQUEST_BYTES") or 64 * 1024),  # webhooks, API, forms
        "MAX_FORM_MEMORY_SIZE": 64 * 1024,
        "MAX_FORM_PARTS": 200,
        "REGISTER_IMPORT_MAX_REQUEST": IMPORT_BYTES + 64 * 1024,  # the CSV file plus the form around it
    }


def _sso_settings(env) -> dict:
    """14.5: OpenID Connect (CONTRACT `OIDC_*`; README "SSO"). Unset issuer = local accounts only."""
    return {
        "OIDC_ISSUER": (env.get("OIDC_ISSUER") or "").rstrip("/") or None,
        "OIDC_CLIENT_ID": env.get("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": env.get("OIDC_CLIENT_SECRET") or None,
        "OIDC_ROLES_CLAIM": env.get("OIDC_ROLES_CLAIM") or "groups",
        "OIDC_ROLE_MAP": env.get("OIDC_ROLE_MAP") or "",
        "OIDC_CREATE_USERS": (env.get("OIDC_CREATE_USERS") or "true").lower() in ("1", "true", "yes"),
        "OIDC_USERNAME_CLAIM": env.get("OIDC_USERNAME_CLAIM") or "preferred_username",
        "OIDC_SCOPES": env.get("OIDC_SCOPES") or "openid profile email",
    }


def _development_secret() -> str:
    """A per-checkout secret kept under instance/, so sessions survive restarts in development."""
    INSTANCE.mkdir(exist_ok=True)
    path = INSTANCE / "secret_key"
    if not path.exists():
        # 12: readable by its owner only, from the moment it exists.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    os.chmod(path, 0o600)  # a file left by an older version is made private too
    return path.read_text().strip()
