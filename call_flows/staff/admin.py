"""Users and teams as an administrator keeps them (issue 14.2), and changing one's own password (14.4).

Plain services: they take a session and plain values, raise `InvalidInput`/`Forbidden`/`NotFound` from
`call_flows.errors`, and leave the commit to the caller. Ending sessions and tokens goes through
`call_flows.staff.accounts`; password rules through `call_flows.staff.passwords`.
"""
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.staff import accounts, passwords
from call_flows.errors import Forbidden, InvalidInput
from call_flows.models import ROLES, Team, User
from call_flows.phone import to_e164
from call_flows.validation import FreeText, OneOf, refused
from call_flows.vocabulary import Role


def _no_spaces(username: str) -> str:
    if any(c.isspace() for c in username):
        raise refused("a username has no spaces")
    return username


class Profile(BaseModel):
    """What an administrator may set on a user (the page's form, the CLI): checked here, bar what needs
    the database (manager, deputy) or the region (phone). Blank text means "none"."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Annotated[str, OneOf(ROLES)]
    display_name: Annotated[str | None, FreeText(120)] = None
    team: Annotated[str | None, FreeText(100)] = None
    site: Annotated[str | None, FreeText(100)] = None
    manager: Annotated[str | None, FreeText(80)] = None  # username of their line manager
    deputy: Annotated[str | None, FreeText(80)] = None  # username of the line manager who covers their queue
    phone: Annotated[str | None, FreeText(32)] = None

    @model_validator(mode="after")
    def _site_needs_team(self) -> "Profile":
        if self.site and not self.team:
            raise refused("a site belongs to a team: name the team too")
        return self


class NewUser(Profile):
    """A user to create: a username (no spaces, at most 80 characters) and their profile."""

    username: Annotated[str, FreeText(80, required=True), AfterValidator(_no_spaces)]


def _active_user(session: Session, username: str | None, what: str, line_manager: bool = False) -> User | None:
    if username is None:
        return None
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None or (line_manager and user.role != Role.LINE_MANAGER):
        kind = "an active line manager" if line_manager else "an active user"
        raise InvalidInput(f"{what} must be the username of {kind}")
    return user


def _team(session: Session, name: str | None, site: str | None) -> Team | None:
    if name is None:
        return None
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
    if site is not None:
        team.site = site
    session.flush()
    return team


def _phone(value: str | None, region: str) -> str | None:
    if value is None or value.startswith("client:"):
        return value
    return to_e164(value, region)  # InvalidPhone (400) for anything phonenumbers cannot read


def apply_profile(session: Session, user: User, profile: Profile, region: str) -> User:
    """Set role, display name, team (created when new; `site` sets the team's site), line manager,
    deputy and phone. A user is never their own manager or deputy; manager and deputy are active users
    (the deputy a line manager). Raises InvalidInput/InvalidPhone."""
    user.role = profile.role
    user.display_name = profile.display_name
    manager = _active_user(session, profile.manager, "manager")
    deputy = _active_user(session, profile.deputy, "deputy", line_manager=True)
    for other, what in ((manager, "manager"), (deputy, "deputy")):
        if other is not None and other.id is not None and other.id == user.id:
            raise InvalidInput(f"a user cannot be their own {what}")
    team = _team(session, profile.team, profile.site)
    user.manager_id = manager.id if manager else None
    user.deputy_id = deputy.id if deputy else None
    user.team_id = team.id if team else (manager.team_id if manager else None)
    user.phone = _phone(profile.phone, region)
    return user


def create_user(session: Session, new: NewUser, region: str) -> tuple[User, str]:
    """A new active user with a new API token: returns (user, token); only the token's hash is kept.
    Raises InvalidInput for a taken username and for a profile the database refuses (apply_profile)."""
    username = new.username
    if session.scalar(select(User).where(User.username == username)):
        raise InvalidInput(f"user {username} already exists", code="username_taken")
    user = User(username=username, role=Role.CALL_HANDLER, active=True)
    apply_profile(session, user, new, region)
    token = accounts.rotate_token(user)
    session.add(user)
    session.flush()
    return user, token


def token_state(user: User, now: datetime) -> str:
    """`none`, `no expiry`, `expired` or `until YYYY-MM-DD`: the state of the user's API token."""
    if not user.token_hash:
        return "none"
    if user.token_expires_at is None:
        return "no expiry"
    if user.token_expires_at <= now:
        return "expired"
    return f"until {user.token_expires_at:%Y-%m-%d}"


def new_token(user: User, expires_at: datetime | None = None) -> str:
    """A new API token for an active user (shown once); the old one stops working. Forbidden when
    the user is deactivated (reactivating is a separate, deliberate act)."""
    if not user.active:
        raise Forbidden(f"{user.username} is deactivated", code="user_deactivated")
    return accounts.rotate_token(user, expires_at)


def reset_password(session: Session, user: User, password: object, now: datetime) -> int:
    """An administrator sets `user`'s password (the policy of `call_flows.staff.passwords` applies); every
    browser session of theirs ends, so whoever knew the old one is signed out. Returns how many ended."""
    password = password if isinstance(password, str) else ""
    passwords.check_policy(password, user.username)
    user.password_hash = passwords.hash_password(password)
    return accounts.revoke_sessions(session, user.id, now, why="password_reset")


def change_own_password(session: Session, user: User, current: object, new: object, confirm: object, keep_secret: str | None,
                        now: datetime) -> int:
    """14.4: a person changes their own password. The current password must match (else InvalidInput
    `wrong_password`), `new` must equal `confirm` and meet the policy. Every other browser session of
    theirs ends; the one whose secret is `keep_secret` continues. Returns how many ended."""
    if not passwords.verify(user.password_hash, current if isinstance(current, str) else ""):
        raise InvalidInput("your current password is not right", code="wrong_password")
    new = new if isinstance(new, str) else ""
    if new != confirm:
        raise InvalidInput("the new password and its confirmation differ", code="password_mismatch")
    passwords.check_policy(new, user.username)
    user.password_hash = passwords.hash_password(new)
    return accounts.revoke_sessions(session, user.id, now, why="password_changed", keep_secret=keep_secret)



def deactivate_user(session: Session, admin: User, user: User, now: datetime) -> int:
    """End every token and browser session of `user` (`call_flows.staff.accounts.deactivate`); returns how
    many sessions ended. An administrator cannot deactivate themselves (someone must stay to undo it)."""
    if admin.id == user.id:
        raise Forbidden("you cannot deactivate your own account", code="own_account")
    return accounts.deactivate(session, user, now)
