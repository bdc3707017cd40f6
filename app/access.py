"""Who may use each route (DOMAIN R9: least data per role): one declaration next to each view, one check
for the staff API and the pages.

Declaring a route is one line above its view::

    @bp.get("/things/<int:thing_id>")
    @allow(Role.LINE_MANAGER, Role.ADMIN)   # signed-in staff with one of these roles; allow() = every role
    def thing(thing_id): ...

    @public                           # anyone: sign-in, health checks
    @twilio_signed                    # Twilio's signature (app/twilio_hooks/signature.py declares it)

A route whose view we do not write (Flask's `static`) is declared in `ENDPOINTS`, keyed by endpoint.
`roles_required` (app/auth.py) and `page_roles` (app/pages/live.py) are this same `allow`.

A refusal answers the audience's way: under `/api/` the JSON error (401 `unauthorised` signed out,
403 `forbidden` for another role); on pages a redirect to /login (signed out) or the 403 page.
A route that declares nothing is refused at run time (403) and fails tests/test_role_matrix.py.
What each role may see *inside* a route (their teams' records; 404 for the rest) is decided by the
services in call_flows/ (call_flows/staff/visibility.py).
"""
from dataclasses import dataclass
from functools import wraps

from flask import Flask, abort, redirect, render_template, request, url_for

from call_flows.errors import Forbidden
from call_flows import logs
from call_flows.vocabulary import ROLES

log = logs.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    """`kind` is "staff" (signed in, role in `roles`), "public" or "twilio" (a valid X-Twilio-Signature)."""

    kind: str
    roles: tuple[str, ...] = ()

    def admits(self, role: str | None) -> bool:
        return self.kind != "staff" or role in self.roles


PUBLIC = Policy("public")
TWILIO = Policy("twilio")
ENDPOINTS: dict[str, Policy] = {"static": PUBLIC}  # views not written here; one line per endpoint


def is_api() -> bool:
    return request.path.startswith("/api/")


def refusal(policy: Policy):
    """None when the request may go on; else the audience's refusal (raised as JSON under /api/)."""
    from .auth import Unauthorised, current_staff

    try:
        user = current_staff()
    except Unauthorised:
        if is_api():
            raise
        return redirect(url_for("pages.login", next=request.path))
    if not policy.admits(user.role):
        if is_api():
            raise Forbidden(f"this needs the role {' or '.join(policy.roles)}")
        return render_template("console/forbidden.html", roles=policy.roles), 403
    return None


def allow(*roles: str):
    """Declare and enforce: signed-in staff whose role is one of `roles` (none named: every role)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    policy = Policy("staff", tuple(roles) or ROLES)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            refused = refusal(policy)
            return refused if refused is not None else view(*args, **kwargs)

        wrapped.access = policy
        return wrapped

    return decorator


def public(view):
    """Declare a route open to everyone (no sign-in)."""
    view.access = PUBLIC
    return view


def policy_for(app: Flask, endpoint: str | None) -> Policy | None:
    view = app.view_functions.get(endpoint) if endpoint else None
    return getattr(view, "access", None) or ENDPOINTS.get(endpoint or "")


def init_app(app: Flask) -> None:
    @app.before_request
    def _declared_routes_only():
        """Fail closed: a route that declares no policy is refused, never served to anyone."""
        if request.endpoint and policy_for(app, request.endpoint) is None:
            log.error("route_without_access_policy", endpoint=request.endpoint, outcome="refused")
            abort(403)
