"""Staff credentials as plain services (issue 10): browser session records, API tokens, deactivation.

Secrets (session secrets, API tokens) are 256-bit random values from `secrets`; only their SHA-256 is
stored, so a copy of the database signs nobody in. Times are timezone-aware UTC datetimes.
"""
from collections.abc import Iterable
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from call_flows.errors import NotFound
from call_flows.models import User
from call_flows.models.sessions import StaffSession

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute per session
KEEP_RECORDS = timedelta(days=30)  # a user's old session records are deleted when they next sign in


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a random secret (enough for 256-bit random values; passwords use scrypt)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> tuple[str, str]:
    """A new random secret and its hash: (secret, sha256 hex)."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


@dataclass(frozen=True)
class Timeouts:
    """Idle and absolute lifetimes of a browser session."""

    idle: timedelta
    absolute: timedelta


def open_session(session: Session, user_id: int, now: datetime) -> str:
    """Record a new browser session for `user_id`; returns the secret the cookie carries. The user's
    session records older than `KEEP_RECORDS` (long past any timeout) are deleted."""
    session.execute(delete(StaffSession).where(StaffSession.user_id == user_id,
                                               StaffSession.created_at < now - KEEP_RECORDS))
    secret, secret_hash = new_secret()
    session.add(StaffSession(user_id=user_id, secret_hash=secret_hash, created_at=now, last_seen_at=now))
    return secret


def check_session(session: Session, secret: str | None, user_id: int, now: datetime,
                  timeouts: Timeouts) -> bool:
    """True when `secret` names a live session of an active `user_id` (not revoked, not idle longer than
    `timeouts.idle`, younger than `timeouts.absolute`); refreshes its last use. A session found expired
    is marked so. The caller commits."""
    if not secret:
        return False
    record = session.scalar(select(StaffSession).where(StaffSession.secret_hash == hash_secret(secret)))
    if record is None or record.user_id != user_id or record.revoked_at is not None:
        return False
    user = session.get(User, user_id)
    if user is None or not user.active:
        return False
    if now - record.last_seen_at > timeouts.idle or now - record.created_at > timeouts.absolute:
        record.revoked_at, record.revoked_why = now, "expired"
        return False
    if now - record.last_seen_at >= TOUCH_EVERY:
        record.last_seen_at = now
    return True


def end_session(session: Session, secret: str | None, now: datetime, why: str = "logout") -> None:
    """Revoke the session whose cookie carries `secret` (signing out). Unknown secrets are ignored."""
    if secret:
        session.execute(update(StaffSession)
                        .where(StaffSession.secret_hash == hash_secret(secret), StaffSession.revoked_at.is_(None))
                        .values(revoked_at=now, revoked_why=why))


def revoke_sessions(session: Session, user_id: int, now: datetime, why: str = "revoked",
                    keep_secret: str | None = None) -> int:
    """Revoke every live browser session of `user_id` (but the one whose cookie carries `keep_secret`,
    when given); returns how many were revoked."""
    where = [StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None)]
    if keep_secret:
        where.append(StaffSession.secret_hash != hash_secret(keep_secret))
    result = session.execute(update(StaffSession).where(*where).values(revoked_at=now, revoked_why=why))
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def live_counts(session: Session, now: datetime, timeouts: Timeouts, user_ids: Iterable[int] | None = None) -> dict[int, int]:
    """How many sessions of each user (of `user_ids`, default everyone) could still be used at `now`:
    {user_id: count}, users with none left out."""
    where = [StaffSession.revoked_at.is_(None), StaffSession.last_seen_at >= now - timeouts.idle,
             StaffSession.created_at >= now - timeouts.absolute]
    if user_ids is not None:
        where.append(StaffSession.user_id.in_(user_ids))
    return dict(session.execute(select(StaffSession.user_id, func.count()).where(*where)
                                .group_by(StaffSession.user_id)).all())


def live_sessions(session: Session, user_id: int, now: datetime, timeouts: Timeouts) -> int:
    """How many sessions of `user_id` could still be used at `now`."""
    return live_counts(session, now, timeouts, [user_id]).get(user_id, 0)


def find_user(session: Session, username: str) -> User:
    """The user called `username`, or NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username}")
    return user


def user_for_token(session: Session, token: str, now: datetime) -> User | None:
    """The active user whose current, unexpired API token is `token`, else None."""
    return session.scalar(select(User).where(
        User.token_hash == hash_secret(token), User.active,
        or_(User.token_expires_at.is_(None), User.token_expires_at > now)))


def rotate_token(user: User, expires_at: datetime | None = None) -> str:
    """Give `user` a new API token (returned once; only its hash is kept). The previous token stops
    working at once, because its hash is no longer stored. `expires_at` (UTC) or None for no expiry."""
    token, token_hash = new_secret()
    user.token_hash, user.token_expires_at = token_hash, expires_at
    return token


def deactivate(session: Session, user: User, now: datetime) -> int:
    """Stop every token and browser session of `user`; returns how many sessions were live."""
    user.active = False
    user.token_hash, user.token_expires_at = None, None
    return revoke_sessions(session, user.id, now, why="deactivated")
