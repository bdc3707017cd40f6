"""Staff authentication: API tokens (stored hashed) and browser sessions (Flask-Login over a server-side
session record, issue 10.8), with role checks."""

from flask import current_app, g, request, session
from flask_login import LoginManager, current_user

from call_flows.autocommit import autocommitted
from call_flows.staff import accounts
from call_flows.clock import utcnow
from call_flows.errors import DomainError
from call_flows.models import User

from call_flows.unit_of_work import SqlAlchemyUnitOfWork

from .db import db_session, unit_of_work

login_manager = LoginManager()
login_manager.login_view = "pages.login"


class Unauthorised(DomainError):
    code = "unauthorised"
    status = 401


class SessionUser:
    """Flask-Login's view of a staff member (kept apart from the ORM row)."""

    def __init__(self, user: User):
        self.user = user
        self.is_authenticated = True
        self.is_active = user.active
        self.is_anonymous = False

    def get_id(self) -> str:
        return str(self.user.id)


SESSION_KEY = "sid"  # the browser session's secret in the signed cookie; its hash names the server record


def session_timeouts() -> accounts.Timeouts:
    config = current_app.config
    return accounts.Timeouts(idle=config["SESSION_IDLE_TIMEOUT"], absolute=config["PERMANENT_SESSION_LIFETIME"])


@login_manager.user_loader
def _load_user(user_id: str):
    """A cookie signs someone in only while its server-side session record is live (not signed out,
    revoked, idle or too old). Checked in a session of its own, so it never commits a view's work."""
    if not user_id.isdigit():
        return None
    with SqlAlchemyUnitOfWork(current_app.extensions["handover"]) as check:
        live = accounts.check_session(check.session, session.get(SESSION_KEY), int(user_id), utcnow(),
                                      session_timeouts())
        check.commit()
    if not live:
        session.clear()
        return None
    user = db_session().get(User, int(user_id))
    return SessionUser(user) if user and user.active else None


def sign_in(user: User) -> None:
    """Start a new browser session for `user` (a fresh cookie and server record: no session fixation)."""
    from flask_login import login_user

    session.clear()
    with unit_of_work() as uow:
        session[SESSION_KEY] = accounts.open_session(uow.session, user.id, utcnow())
        uow.commit()
    session.permanent = True  # the cookie expires with the absolute timeout
    login_user(SessionUser(user))


def sign_out() -> None:
    """End this browser session: its server record is revoked, so a copied cookie stops working."""
    from flask_login import logout_user

    with unit_of_work() as uow:
        accounts.end_session(uow.session, session.get(SESSION_KEY), utcnow())
        uow.commit()
    logout_user()
    session.clear()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return None


def current_staff() -> User:
    """The signed-in staff member (bearer token or browser session), or Unauthorised."""
    if "staff" in g:
        return g.staff
    token = bearer_token()
    user = None
    with autocommitted(db_session()):  # a read before the request's transaction: no BEGIN round trip (9.16)
        if token:
            user = accounts.user_for_token(db_session(), token, utcnow())
        elif current_user.is_authenticated:
            user = db_session().get(User, current_user.user.id)
    if user is None:
        raise Unauthorised("sign in or send a valid bearer token")
    g.staff = user
    return user


def roles_required(*roles: str):
    """Refuse a staff member whose role is not one of `roles` (403); the route's declared policy
    (app/access.py `allow`, one mechanism for the API and the pages)."""
    from .access import allow

    return allow(*roles)
