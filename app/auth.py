"""Staff authentication: API tokens (stored hashed) and browser sessions (Flask-Login), with role checks."""
import hashlib
import secrets

from flask import g, request
from flask_login import LoginManager, current_user
from sqlalchemy import select

from call_flows.errors import DomainError
from call_flows.models import User

from .db import db_session

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


@login_manager.user_loader
def _load_user(user_id: str):
    user = db_session().get(User, int(user_id)) if user_id.isdigit() else None
    return SessionUser(user) if user and user.active else None


def hash_token(token: str) -> str:
    """Tokens are 256-bit random values, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


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
    if token:
        user = db_session().scalar(select(User).where(User.token_hash == hash_token(token), User.active))
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
