"""/calls (CONTRACT: call history and search, issue 14.1) and /calls/<CallSid> (the call's timeline).
The services decide what each person sees (call_flows/calls/history.py, call_flows/calls/timeline.py)."""
from flask import current_app, render_template, request
from sqlalchemy import select, true

from call_flows import settings as org_settings
from call_flows.calls.history import Search, history
from call_flows.calls.timeline import timeline
from call_flows.clock import utcnow
from call_flows.errors import DomainError
from call_flows.models import ROLES, Team
from call_flows.vocabulary import OVERSEERS as HISTORY_ROLES, REGISTER_READERS as REGISTER_ROLES
from call_flows.staff.visibility import teams_in_view

from ..api.shapes import history_json
from ..auth import current_staff
from ..db import db_session, unit_of_work
from ..forms import query_args
from . import bp
from .live import page_roles


@bp.get("/calls")
@page_roles(*HISTORY_ROLES)
def calls_page():
    session, user = db_session(), current_staff()
    teams_seen = teams_in_view(session, user)
    teams = session.scalars(select(Team).order_by(Team.name).where(
        Team.id.in_(teams_seen) if teams_seen is not None else true()))
    found, error, search = {"calls": [], "next_page": None}, None, None
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            search = query_args(Search)
            found = history_json(history(uow.session, user, search, utcnow(),
                                         current_app.config.get("DEFAULT_REGION", "GB")))
            uow.commit()  # R9: a name search and the markers shown are audited
    except DomainError as exc:
        error = exc.message
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("calls/history.html", found=found, error=error, search=search or request.args,
                           teams=list(teams), may_search_names=user.role in REGISTER_ROLES, args=args,
                           page=search.page if search else 1), 400 if error else 200


@bp.get("/calls/<call_sid>")
@page_roles(*ROLES)
def call_timeline_page(call_sid):
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            shown = timeline(uow.session, call_sid, current_staff(), utcnow(), org_settings.load(uow.session))
            uow.commit()  # R9: the marker shown is logged as a view of its register entry
    except DomainError as exc:
        return render_template("calls/timeline.html", missing=exc.message), 404
    return render_template("calls/timeline.html", call=shown.call, handler=shown.handler, steps=shown.steps,
                           incident_id=shown.incident_id, task_ids=shown.task_ids)
