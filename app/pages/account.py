"""/account/password: change your own password (issue 14.4, CONTRACT "Pages").

The current password is required and the policy of `call_flows.staff.passwords` applies; every other browser
session of the person ends, this one continues. People who sign in by single sign-on have no local
password here and are told so.
"""
from flask import flash, redirect, render_template, request, session, url_for

from call_flows.staff import admin as staff_admin
from call_flows.clock import utcnow
from call_flows.errors import DomainError
from call_flows.models import ROLES

from ..auth import SESSION_KEY, current_staff
from ..db import unit_of_work
from . import bp
from .live import page_roles


@bp.get("/account/password")
@page_roles(*ROLES)
def account_password():
    return render_template("account/password.html", local=bool(current_staff().password_hash))


@bp.post("/account/password")
@page_roles(*ROLES)
def account_password_change():
    user = current_staff()
    if not user.password_hash:
        flash("You sign in through single sign-on: change your password there.", "error")
        return render_template("account/password.html", local=False), 409
    form = request.form
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            ended = staff_admin.change_own_password(uow.session, user, form.get("current_password"),
                                                    form.get("new_password"), form.get("confirm_password"),
                                                    session.get(SESSION_KEY), utcnow())
            uow.commit()
    except DomainError as exc:
        flash(exc.message, "error")
        return render_template("account/password.html", local=True), exc.status
    flash("Your password has been changed." + (f" {ended} other session(s) signed out." if ended else ""), "ok")
    return redirect(url_for("pages.account_password"))
