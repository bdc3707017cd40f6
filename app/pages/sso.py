"""14.5: "Sign in with your organisation's account" (OpenID Connect). The same server-side session
record as a local sign-in is opened (app.auth.sign_in); the /login form stays for local accounts."""

from flask import abort, redirect, render_template, session

from call_flows.staff.sso import SignInRefused
from call_flows import logs

from .. import sso
from ..access import public
from ..auth import sign_in
from ..db import unit_of_work
from . import bp
from .login import FAILED, HOME

log = logs.get_logger(__name__)


@bp.get("/login/sso")
@public  # anyone may start signing in
def sso_start():
    """Send the browser to the organisation's provider (authorisation code flow with PKCE)."""
    if not sso.enabled():
        abort(404)
    try:
        return sso.client().authorize_redirect(sso.external_url("pages.sso_callback"))
    except Exception:  # discovery failed: the provider is down or misconfigured
        log.exception("sso_start", outcome="provider_unreachable")
        return render_template("login.html", error="Your organisation's sign-in service cannot be reached. "
                               "Try again in a moment."), 503


@bp.get("/login/sso/callback")
@public  # the provider's answer carries the proof (state, code, signed ID token)
def sso_callback():
    """The provider sends the browser back here with a code; refused sign-ins return to /login."""
    if not sso.enabled():
        abort(404)
    with unit_of_work() as uow:
        try:
            user = sso.finish_sign_in(uow.session)
        except SignInRefused as exc:
            uow.commit()  # keeps a revocation made while refusing (a withdrawn role)
            log.info("sso_sign_in", outcome="refused", reason=exc.message)
            return render_template("login.html", error=f"Not signed in: {exc.message}."), FAILED
        sign_in(user)  # its unit of work, on this request's session, commits the user's record with the sign-in
    session[sso.SESSION_FLAG] = True
    log.info("sso_sign_in", outcome="ok", user=user.username, role=user.role)
    return redirect(HOME.get(user.role, "/"))
