"""Trends (CONTRACT /trends; I8): charts a person can read at a glance, each with its data table and
a CSV download."""
import csv
import io

from typing import Annotated

from flask import Response, abort, render_template, request
from pydantic import BaseModel, BeforeValidator

from call_flows import settings as org_settings
from call_flows.incidents import trends
from call_flows.clock import utcnow
from call_flows.vocabulary import OVERSEERS as ROLES

from ..db import db_session
from ..forms import LenientId, clipped, query_args
from . import bp, charts
from .live import page_roles

WEEK_CHOICES = (4, 12, 26, 52)


def _weeks(raw: object) -> int:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and int(raw) in WEEK_CHOICES else 12


class TrendsFilter(BaseModel):
    """The trends query (I8): weeks (one of WEEK_CHOICES, else 12), a team id and a site; a value that
    cannot be one is no filter."""

    weeks: Annotated[int, BeforeValidator(_weeks)] = 12
    team: LenientId = None
    site: Annotated[str | None, BeforeValidator(clipped(100))] = None


def _params() -> dict:
    shown = query_args(TrendsFilter)
    return {"weeks": shown.weeks, "team_id": shown.team, "site": shown.site}


def _report(params: dict) -> dict:
    session = db_session()
    return trends.report(session, utcnow(), org_settings.load(session), **params)


@bp.get("/trends")
@page_roles(*ROLES)
def trends_page():
    params = _params()
    data = _report(params)
    kinds = trends.KINDS
    short_week = lambda iso: iso[8:10] + "/" + iso[5:7]  # noqa: E731  (dd/mm of the week's Monday)
    figures = {
        "weekly": charts.columns(data["weekly"], "week", kinds, label=short_week),
        "by_team": charts.stacked(data["by_team"], "team", kinds),
        "by_site": charts.stacked(data["by_site"], "site", kinds),
        "by_reason": charts.stacked(data["by_reason"], "reason", kinds),
        "repeat_callers": charts.stacked(data["repeat_callers"], "caller", ("warnings", "terminations")),
        "deadlines": charts.stacked(data["deadlines"], "record", ("on_time", "late", "open_in_time", "open_overdue")),
    }
    query = request.query_string.decode()
    return render_template("trends/trends.html", data=data, figures=figures, params=params,
                           week_choices=WEEK_CHOICES, columns=trends.CSV_COLUMNS, query=query)


@bp.get("/trends/<name>.csv")
@page_roles(*ROLES)
def trends_csv(name):
    if name not in trends.CSV_COLUMNS:
        abort(404)
    params = _params()
    out = io.StringIO()
    csv.writer(out).writerows(trends.csv_rows(_report(params), name))
    filename = f"callguard-{name.replace('_', '-')}-{params['weeks']}w.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
