"""Trends (issue 6; I8, R10, T5, I5): weekly counts by team, site and reason, repeat callers,
deadlines, the page's charts and the CSV downloads."""
import csv
import io
from datetime import timedelta

import pytest

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.incidents import trends
from call_flows.models import Team
from tests.conftest import FROZEN_AT
from tests.page_helpers import HOSTILE, History, monday_of, seed, sign_in

pytestmark = pytest.mark.usefixtures("frozen_clock")  # the page and the report read the same clock
NOW = FROZEN_AT
MONDAY = monday_of(NOW)


def report(app, **kw):
    with app.app_context():
        return trends.report(db_session(), NOW, org_settings.OrgSettings(), **kw)


def test_i8_weekly_counts_include_quiet_weeks(app, team):
    seed(app, team)
    data = report(app, weeks=4)
    assert [r["week"] for r in data["weekly"]] == [(MONDAY - timedelta(weeks=w)).date().isoformat()
                                                   for w in (3, 2, 1, 0)]
    assert [(r["incidents"], r["warnings"], r["terminations"]) for r in data["weekly"]] == [
        (0, 0, 0), (1, 1, 1), (1, 1, 0), (1, 1, 1)]


def test_i8_by_team_site_and_reason(app, team):
    seed(app, team)
    data = report(app)
    assert data["by_team"] == [
        {"team": "Passports North", "incidents": 2, "warnings": 2, "terminations": 1},
        {"team": "Benefits South", "incidents": 1, "warnings": 1, "terminations": 1}]
    assert [r["site"] for r in data["by_site"]] == ["Durham", "Leeds"]
    reasons = {r["reason"]: r for r in data["by_reason"]}
    assert reasons["abuse"]["warnings"] == 2 and reasons["threat_of_violence"]["terminations"] == 1
    assert reasons["threat_of_violence"]["incidents"] == 1  # I7: serious incidents stand out


def test_i8_filters_narrow_everything(app, team):
    south = seed(app, team)
    assert [r["team"] for r in report(app, team_id=south)["by_team"]] == ["Benefits South"]
    assert [r["team"] for r in report(app, site="Durham")["by_team"]] == ["Passports North"]
    assert report(app, weeks=52)["by_team"][1]["warnings"] == 2  # the 20-week-old call counts in a year


def test_r10_repeat_callers_are_masked_and_counted(app, team):
    seed(app, team)
    rows = report(app)["repeat_callers"]
    assert rows == [{"caller": "•" * 9 + "0001", "warnings": 2, "terminations": 1,
                     "last_at": (MONDAY + timedelta(minutes=2)).isoformat()},
                    {"caller": "•" * 9 + "0002", "warnings": 1, "terminations": 1,
                     "last_at": (MONDAY - timedelta(weeks=2, minutes=-2)).isoformat()}]


def test_t5_i5_callbacks_and_incident_records_against_deadlines(app, team):
    seed(app, team)
    callbacks, records = report(app)["deadlines"]
    assert callbacks == {"record": "callbacks", "on_time": 1, "late": 1, "open_in_time": 0, "open_overdue": 1,
                         "median_hours": 30.0}
    assert (records["on_time"], records["open_overdue"], records["median_hours"]) == (1, 2, 3.0)


def test_csv_cells_cannot_become_spreadsheet_formulas():
    assert trends.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and trends.csv_cell("+44") == "'+44"
    assert trends.csv_cell(3) == "3" and trends.csv_cell(None) == ""


def test_trends_page_draws_every_chart_and_offers_csv(app, client, team):
    seed(app, team)
    sign_in(app, client, "manager")
    page = client.get("/trends?weeks=12").get_data(as_text=True)
    for name in trends.CSV_COLUMNS:
        assert f'data-chart="{name}"' in page and f"/trends/{name}.csv?weeks=12" in page
    assert page.count("<rect") > 10
    response = client.get("/trends/by_team.csv?weeks=12")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["team", "incidents", "warnings", "terminations"] and len(rows) == 3
    assert client.get("/trends/nothing.csv").status_code == 404


def test_trends_page_roles(app, client, staff, team):
    sign_in(app, client, "handler")
    assert client.get("/trends").status_code == 403
    for role in ("supervisor", "admin"):
        staff.add(f"a-{role}", role)
        sign_in(app, client, f"a-{role}")
        assert client.get("/trends").status_code == 200


def test_trends_escape_hostile_team_names_in_page_and_csv(app, client, team):
    with app.app_context():
        session = db_session()
        evil = Team(name=HOSTILE[:90], site="=cmd|' /C calc'!A0")
        session.add(evil)
        session.flush()
        History(session, team["handler"]["id"]).call(evil, "+447700900009", MONDAY, warn="abuse")
        session.commit()
    sign_in(app, client, "manager")
    page = client.get("/trends").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    rows = list(csv.reader(io.StringIO(client.get("/trends/by_site.csv").get_data(as_text=True))))
    assert rows[1][0] == "'=cmd|' /C calc'!A0"

