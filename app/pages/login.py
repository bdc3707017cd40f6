"""Sign in and out with a local account; each role lands on its own home page.

Sign-in attempts are throttled per account and per address (`app.web_security`, issue 10.7) and every
attempt checks a password hash, known user or not, so neither answers nor timing tell who exists.
"""
from typing import Annotated

from flask import redirect, render_template, request, session, url_for
from pydantic import BaseModel, BeforeValidator
from sqlalchemy import select

from call_flows.staff import passwords
from call_flows.models import User
from call_flows.vocabulary import Role

from ..access import public
from ..auth import current_staff, sign_in, sign_out
from ..db import db_session
from ..forms import form_body
from . import bp

HOME = {Role.CALL_HANDLER: "/console", Role.LINE_MANAGER: "/callbacks", Role.SUPERVISOR: "/board",
        Role.PANEL_MEMBER: "/register", Role.ADMIN: "/trends"}
FAILED = 401  # the status of a failed attempt: the per-address throttle counts these


class Credentials(BaseModel):
    """The sign-in form: never refused as such (a wrong pair is one answer, FAILED); a username is at most 80."""

    username: Annotated[str, BeforeValidator(lambda raw: raw[:80] if isinstance(raw, str) else "")] = ""
    password: str = ""


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    error = None
    if request.method == "POST":
        sent = form_body(Credentials)
        user = db_session().scalar(select(User).where(User.username == sent.username, User.active))
        if passwords.verify(user.password_hash if user else None, sent.password):
            sign_in(user)
            return redirect(HOME.get(user.role, "/"))
        error = "Unknown username or wrong password."
    return render_template("login.html", error=error), FAILED if error else 200


@bp.post("/logout")
@public
def logout():
    """End this session's server record. 14.5: after a single sign-on, offer the provider's
    end_session_endpoint too (when it advertises one) so a shared desk is signed out there as well."""
    from .. import sso

    by_sso = bool(session.get(sso.SESSION_FLAG))
    sign_out()
    end_session = sso.end_session_url() if by_sso and sso.enabled() else None
    if end_session:
        return render_template("signed_out.html", end_session_url=end_session)
    return redirect(url_for("pages.login"))


@bp.get("/")
@public
def home():
    try:
        user = current_staff()
    except Exception:
        return redirect(url_for("pages.login"))
    return redirect(HOME.get(user.role, "/login"))
