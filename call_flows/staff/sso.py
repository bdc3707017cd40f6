"""14.5: single sign-on by OpenID Connect, as plain services: the role map, roles and team from the
provider's claims, and the staff member a verified ID token signs in (created, linked or refused).

The web layer (`app/sso.py`) runs the authorisation code flow and verifies the ID token; this module
only sees its claims (a dict) and never imports Flask.

Role map (env `OIDC_ROLE_MAP`): entries separated by `;` or new lines, each `GROUP=ROLE` or
`GROUP=ROLE:TEAM`, e.g. `3f6c...-guid=call_handler:Passports North; cg-managers=line_manager:Passports North`.
GROUP is a value of the roles claim (`OIDC_ROLES_CLAIM`, default `groups`; a dotted path such as
`realm_access.roles` reaches into nested claims). When several of a person's groups are mapped, the
entry written first wins. A person none of whose groups is mapped is refused.
"""
from typing import Any
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from call_flows.staff.accounts import revoke_sessions
from call_flows.errors import DomainError
from call_flows.models import ROLES, Team, User

USERNAME_CLAIMS = ("preferred_username", "email", "upn")  # tried in order after OIDC_USERNAME_CLAIM
MAX_USERNAME = 80


class SignInRefused(DomainError):
    """The provider vouched for the person, but callguard will not sign them in (401)."""

    code = "sso_refused"
    status = 401


@dataclass(frozen=True)
class RoleRule:
    """One `GROUP=ROLE[:TEAM]` entry of the role map."""

    group: str
    role: str
    team: str | None


@dataclass(frozen=True)
class SsoPolicy:
    """How claims become a staff member: the claim holding groups or roles, the role map, whether a
    first sign-in creates the user, and the claim naming them."""

    roles_claim: str
    rules: tuple[RoleRule, ...]
    create_users: bool = True
    username_claim: str = "preferred_username"


def parse_role_map(text: str) -> tuple[RoleRule, ...]:
    """`OIDC_ROLE_MAP` text -> rules, in the order written. Raises ValueError naming the bad entry
    (an entry without `=`, an empty group, or a role that is not one of ROLES)."""
    rules = []
    for raw in text.replace("\n", ";").split(";"):
        entry = raw.strip()
        if not entry:
            continue
        group, sep, target = entry.partition("=")
        role, _, team = target.partition(":")
        group, role, team = group.strip(), role.strip(), team.strip()
        if not sep or not group:
            raise ValueError(f"OIDC_ROLE_MAP entry {entry!r} is not GROUP=ROLE or GROUP=ROLE:TEAM")
        if role not in ROLES:
            raise ValueError(f"OIDC_ROLE_MAP entry {entry!r}: role must be one of {', '.join(ROLES)}")
        rules.append(RoleRule(group, role, team or None))
    return tuple(rules)


def claim_values(claims: dict[str, Any], path: str) -> list[str]:
    """The values of claim `path` (dotted for nested objects) as strings: a list claim as it is, a
    single string as one value; a missing claim is []."""
    value: object = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def role_for(claims: dict[str, Any], policy: SsoPolicy) -> RoleRule | None:
    """The first rule of the role map whose group is among the person's claim values, else None."""
    held = set(claim_values(claims, policy.roles_claim))
    return next((rule for rule in policy.rules if rule.group in held), None)


def _username(claims: dict[str, Any], policy: SsoPolicy) -> str:
    for name in (policy.username_claim, *USERNAME_CLAIMS):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            username = value.strip().lower()
            if len(username) > MAX_USERNAME:
                raise SignInRefused(f"the username from your organisation is longer than {MAX_USERNAME} characters")
            return username
    raise SignInRefused("your organisation's account gave no username (preferred_username or email)")


def _team(session: Session, name: str | None) -> int | None:
    if not name:
        return None
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team.id


def user_for_claims(session: Session, issuer: str, claims: dict[str, Any], policy: SsoPolicy, now: datetime) -> User:
    """The active staff member that verified ID-token `claims` from `issuer` sign in, with role and
    team set from the role map at every sign-in. Found by the provider's subject (`iss` + `sub`); on a
    first sign-in an unlinked account of the same username is linked, or (when `policy.create_users`)
    a new one created without a local password. The caller commits.

    Raises SignInRefused when no group maps to a role (a known person's live sessions are revoked too:
    their access was withdrawn at the provider), when the account is deactivated or linked to another
    subject, when creating users is off and no account exists, or when no username is given."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInRefused("your organisation's account gave no subject")
    user = session.scalar(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject))
    rule = role_for(claims, policy)
    if rule is None:
        if user is not None:
            revoke_sessions(session, user.id, now, why="sso_no_role")
        raise SignInRefused("your organisation's account has no group that callguard maps to a role; "
                            "ask your administrator")
    if user is None:
        username = _username(claims, policy)
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and user.oidc_subject is not None:
            raise SignInRefused(f"the account {username} is linked to another sign-in at your organisation")
        if user is not None and not user.active:
            raise SignInRefused("this account has been deactivated")
        if user is None:
            if not policy.create_users:
                raise SignInRefused(f"there is no callguard account {username}; ask your administrator")
            user = User(username=username, role=rule.role, active=True)
            session.add(user)
        user.oidc_issuer, user.oidc_subject = issuer, subject
    elif not user.active:
        raise SignInRefused("this account has been deactivated")
    user.role = rule.role
    if rule.team:
        user.team_id = _team(session, rule.team)
    session.flush()
    return user
