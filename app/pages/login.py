"""Sign in and out with a local account; each role lands on its own home page."""
from flask import redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash

from call_flows.models import User

from ..access import public
from ..auth import SessionUser, current_staff
from ..db import db_session
from . import bp

HOME = {"call_handler": "/console", "line_manager": "/callbacks", "supervisor": "/board",
        "panel_member": "/register", "admin": "/trends"}


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    error = None
    if request.method == "POST":
        username = request.form.get("username", "")[:80]
        user = db_session().scalar(select(User).where(User.username == username, User.active))
        if user and user.password_hash and check_password_hash(user.password_hash, request.form.get("password", "")):
            login_user(SessionUser(user))
            return redirect(HOME.get(user.role, "/"))
        error = "Unknown username or wrong password."
    return render_template("login.html", error=error), 401 if error else 200


@bp.post("/logout")
@public
def logout():
    logout_user()
    return redirect(url_for("pages.login"))


@bp.get("/")
@public
def home():
    try:
        user = current_staff()
    except Exception:
        return redirect(url_for("pages.login"))
    return redirect(HOME.get(user.role, "/login"))
