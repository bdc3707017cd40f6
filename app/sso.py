"""14.5: OpenID Connect sign-in wiring with Authlib's Flask client: discovery from `OIDC_ISSUER`,
the authorisation code flow with PKCE (S256), state and nonce, and ID-token verification (signature
against the provider's JWKS, issuer, audience, expiry). `call_flows.staff.sso` decides who that signs in.

Configured only when `OIDC_ISSUER` is set; then `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` and a valid
`OIDC_ROLE_MAP` are required at startup (a missing secret fails at startup, not at sign-in).
"""
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, url_for
from joserfc import errors as joserfc_errors

from call_flows import logs
from call_flows.clock import utcnow
from call_flows.models import User
from call_flows.staff.sso import SignInRefused, SsoPolicy, claim_values, parse_role_map, user_for_claims

CLIENT = "organisation"
SESSION_FLAG = "sso"  # set in the browser session of a person signed in by SSO (for signing out)
log = logs.get_logger(__name__)


def init_app(app: Flask) -> None:
    config = app.config
    if not config.get("OIDC_ISSUER"):
        return
    if not (config.get("OIDC_CLIENT_ID") and config.get("OIDC_CLIENT_SECRET")):
        raise RuntimeError("OIDC_ISSUER is set: OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are required too")
    try:
        rules = parse_role_map(config["OIDC_ROLE_MAP"])
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    if not rules:
        raise RuntimeError("OIDC_ISSUER is set: OIDC_ROLE_MAP must map at least one group to a role")
    app.extensions["sso_policy"] = SsoPolicy(config["OIDC_ROLES_CLAIM"], rules, config["OIDC_CREATE_USERS"],
                                             config["OIDC_USERNAME_CLAIM"])
    oauth = app.extensions["sso_oauth"] = OAuth(app)  # one per app: provider metadata is cached in it
    oauth.register(CLIENT, client_id=config["OIDC_CLIENT_ID"], client_secret=config["OIDC_CLIENT_SECRET"],
                   server_metadata_url=config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
                   client_kwargs={"scope": config["OIDC_SCOPES"], "code_challenge_method": "S256"},
                   overwrite=True)


def enabled() -> bool:
    return "sso_policy" in current_app.extensions


def client():
    return current_app.extensions["sso_oauth"].create_client(CLIENT)


def external_url(endpoint: str) -> str:
    """An absolute URL of ours for the provider (PUBLIC_BASE_URL behind a proxy)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint)
    return url_for(endpoint, _external=True)


def end_session_url() -> str | None:
    """The provider's end_session_endpoint (RP-initiated logout) with our client id and the sign-in
    page to come back to, or None when the provider advertises none."""
    app = client()
    try:
        if not app.load_server_metadata().get("end_session_endpoint"):
            return None
        return app.create_logout_url(post_logout_redirect_uri=external_url("pages.login"),
                                     client_id=current_app.config["OIDC_CLIENT_ID"])["url"]
    except Exception:  # the provider is unreachable: signing out of callguard still worked
        log.exception("sso_end_session", outcome="unavailable")
        return None


def finish_sign_in(db) -> User:
    """The provider sent the browser back: exchange the code (with the PKCE verifier), verify the ID
    token and find the staff member its claims sign in (call_flows.staff.sso.user_for_claims).

    Raises SignInRefused, with a message for the person, when the provider refused or the state does
    not match, the ID token is expired or invalid, or callguard refuses the claims."""
    app = client()
    try:
        token = app.authorize_access_token()
    except joserfc_errors.ExpiredTokenError:
        raise SignInRefused("your sign-in at your organisation has expired: sign in again") from None
    except OAuthError as exc:
        if exc.error == "access_denied":
            raise SignInRefused("your organisation did not confirm your sign-in") from None
        raise SignInRefused("the sign-in could not be completed: start again") from None
    except (joserfc_errors.JoseError, ValueError):
        log.warning("sso_sign_in", outcome="invalid_id_token", exc_info=True)
        raise SignInRefused("your organisation's sign-in could not be verified: start again") from None
    claims = dict(token.get("userinfo") or {})
    if not claims:
        raise SignInRefused("your organisation sent no ID token")
    policy: SsoPolicy = current_app.extensions["sso_policy"]
    if not claim_values(claims, policy.roles_claim) and app.load_server_metadata().get("userinfo_endpoint"):
        extra = app.userinfo(token=token)  # some providers put groups in userinfo only
        for key, value in extra.items():
            claims.setdefault(key, value)
    return user_for_claims(db, claims["iss"], claims, policy, utcnow())
