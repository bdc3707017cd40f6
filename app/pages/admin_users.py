"""/admin/users: an administrator's users and teams page (issue 14.2, CONTRACT "Pages").

List, create, edit (display name, role, team and site, line manager, deputy, phone), deactivate (every
session and token ends), reset a password (the policy applies), issue a new API token (shown once,
never stored or flashed), and every team's callback queue read-only, with a reassign form that calls
the same service as `POST /api/v1/callbacks/{id}/reassign`. Each form calls one `call_flows` service.
"""
from flask import current_app, flash, redirect, render_template, request, url_for
from pydantic import BaseModel
from sqlalchemy import select

from call_flows.callbacks import work as callback_work
from call_flows.staff import admin as staff_admin
from call_flows.staff.accounts import live_counts
from call_flows.callbacks.queue import every_queue
from call_flows.clock import utcnow
from call_flows.events import CallbackTaskChanged
from call_flows.errors import DomainError, NotFound
from call_flows.labels import ROLES as ROLE_LABELS
from call_flows.models import ROLES, Team, User
from call_flows.vocabulary import Role

from ..api.callback_schemas import ReassignIn
from ..auth import current_staff, session_timeouts
from ..db import db_session, unit_of_work
from ..forms import form_body, typed
from . import bp
from .live import page_roles


class NewPassword(BaseModel):
    """The admin's password form; the policy (call_flows.staff.passwords) is the service's to apply."""

    password: str = ""


def _users_page(status=200, token_for=None, token=None, form=None):
    session, now = db_session(), utcnow()
    users = list(session.scalars(select(User).order_by(User.active.desc(), User.username)))
    names = {u.id: u.shown_name for u in users}
    live = live_counts(session, now, session_timeouts())
    rows = [{"user": u, "manager": names.get(u.manager_id), "deputy": names.get(u.deputy_id),
             "token": staff_admin.token_state(u, now), "sessions": live.get(u.id, 0)} for u in users]
    tasks = every_queue(session, now)
    return render_template(
        "admin/users.html", rows=rows, roles=ROLES, role_labels=ROLE_LABELS, token_for=token_for, token=token,
        teams=list(session.scalars(select(Team).order_by(Team.name))), form=form or {},
        managers=[u for u in users if u.active and u.role == Role.LINE_MANAGER], tasks=tasks, names=names,
        now=now), status


def _user_page(user: User, status=200, token=None):
    session = db_session()
    managers = list(session.scalars(select(User).where(User.active, User.id != user.id).order_by(User.username)))
    form = typed(url_for("pages.admin_user_save", user_id=user.id))
    return render_template("admin/user.html", u=user, roles=ROLES, role_labels=ROLE_LABELS, token=token, form=form,
                           people=managers, teams=list(session.scalars(select(Team).order_by(Team.name))),
                           line_managers=[m for m in managers if m.role == Role.LINE_MANAGER],
                           token_state=staff_admin.token_state(user, utcnow())), status


def _target(user_id: int) -> User:
    user = db_session().get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    return user


@bp.get("/admin/users")
@page_roles(Role.ADMIN)
def admin_users():
    return _users_page()


@bp.post("/admin/users")
@page_roles(Role.ADMIN)
def admin_user_create():
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            user, token = staff_admin.create_user(uow.session, form_body(staff_admin.NewUser),
                                                  current_app.config["DEFAULT_REGION"])
            uow.commit()
    except DomainError as exc:
        flash(exc.message, "error")
        return _users_page(status=exc.status, form=request.form)
    flash(f"Created {user.shown_name} ({user.username}).", "ok")
    return _users_page(status=201, token_for=user, token=token)  # the token is shown once, here


@bp.get("/admin/users/<int:user_id>")
@page_roles(Role.ADMIN)
def admin_user(user_id):
    try:
        return _user_page(_target(user_id))
    except NotFound as exc:
        flash(exc.message, "error")
        return _users_page(status=404)


def _act(user_id, action, message, respond=None):
    """Run one service on the user; a refusal is shown on their page with its own status, never a 500.
    On success `message(user, result)` is flashed and `respond(user, result)` answers (default: back
    to their page)."""
    try:
        user = _target(user_id)
    except NotFound as exc:
        flash(exc.message, "error")
        return _users_page(status=404)
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            result = action(uow.session, user)
            uow.commit()
    except DomainError as exc:
        flash(exc.message, "error")
        return _user_page(db_session().get(User, user_id), status=exc.status)
    flash(message(user, result), "ok")
    if respond is not None:
        return respond(user, result)
    return redirect(url_for("pages.admin_user", user_id=user_id))


@bp.post("/admin/users/<int:user_id>")
@page_roles(Role.ADMIN)
def admin_user_save(user_id):
    return _act(user_id, lambda s, u: staff_admin.apply_profile(
        s, u, form_body(staff_admin.Profile), current_app.config["DEFAULT_REGION"]),
                lambda u, _: f"Saved {u.shown_name}.")


@bp.post("/admin/users/<int:user_id>/deactivate")
@page_roles(Role.ADMIN)
def admin_user_deactivate(user_id):
    return _act(user_id, lambda s, u: staff_admin.deactivate_user(s, current_staff(), u, utcnow()),
                lambda u, ended: f"Deactivated {u.shown_name}: API token revoked, {ended} session(s) ended.")


@bp.post("/admin/users/<int:user_id>/password")
@page_roles(Role.ADMIN)
def admin_user_password(user_id):
    return _act(user_id, lambda s, u: staff_admin.reset_password(s, u, form_body(NewPassword).password, utcnow()),
                lambda u, ended: f"New password set for {u.shown_name}; {ended} session(s) ended.")


@bp.post("/admin/users/<int:user_id>/token")
@page_roles(Role.ADMIN)
def admin_user_token(user_id):
    return _act(user_id, lambda s, u: staff_admin.new_token(u),
                lambda u, _: f"New API token issued for {u.shown_name}; the previous one no longer works.",
                lambda u, token: _user_page(u, token=token))  # shown once: not stored, not flashed


@bp.post("/admin/callbacks/<int:task_id>/reassign")
@page_roles(Role.ADMIN)
def admin_callback_reassign(task_id):
    try:
        with unit_of_work() as uow:
            task = callback_work.reassign(uow.session, task_id, current_staff(), form_body(ReassignIn).manager, utcnow())
            uow.record(CallbackTaskChanged(task.id, task.status, task.team_id))
            uow.commit()
    except DomainError as exc:
        flash(exc.message, "error")
        return _users_page(status=exc.status)
    flash(f"Case {task.case_reference} reassigned.", "ok")
    return redirect(url_for("pages.admin_users") + "#queues")
