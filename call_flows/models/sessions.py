"""Server-side records of browser sessions, so signing out and an administrator's revoke end them."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from call_flows.models.base import Base


class StaffSession(Base):
    """One signed-in browser session. The cookie holds a random secret; only its SHA-256 is stored here.

    A session is usable while `revoked_at` is null, `last_seen_at` is within the idle timeout and
    `created_at` within the absolute timeout (see `call_flows.staff.accounts`).
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_why: Mapped[str | None] = mapped_column(String(40))  # logout, revoked, deactivated, replaced
