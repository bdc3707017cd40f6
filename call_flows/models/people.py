"""Staff: teams and users with roles (DOMAIN "People")."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from call_flows.models.base import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    site: Mapped[str | None] = mapped_column(String(100))


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)  # for signing in
    display_name: Mapped[str | None] = mapped_column(String(120))  # how people see them named (issue 14.3)
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deputy_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None]  # null = the token does not expire (issue 10.9)
    active: Mapped[bool] = mapped_column(default=True)
    # 14.5: the OpenID Connect provider and subject this account signs in as (null = local only)
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))

    team: Mapped[Team | None] = relationship(lazy="joined")
    manager: Mapped["User | None"] = relationship(remote_side=[id], foreign_keys=[manager_id])

    @property
    def shown_name(self) -> str:
        """The name shown to people: the display name, else the username (issue 14.3)."""
        return self.display_name or self.username
