"""The supervisor's ring-time board (CONTRACT /board; R1, I7): the page, its JSON snapshot and its
live event stream."""
from typing import Annotated, Any

from flask import jsonify, render_template
from pydantic import BaseModel, BeforeValidator

from call_flows.calls import board
from call_flows import settings as org_settings
from call_flows.clock import utcnow
from call_flows.vocabulary import Role

from ..auth import current_staff
from ..db import unit_of_work
from ..forms import LenientId, clipped, query_args
from . import bp
from ..api.shapes import board_json
from .live import event_stream, page_roles


class BoardFilter(BaseModel):
    """The board's query: a team id and a site; a value that cannot be either is no filter (R1)."""

    team: LenientId = None
    site: Annotated[str | None, BeforeValidator(clipped(100))] = None


def _filters() -> tuple[int | None, str | None]:
    shown = query_args(BoardFilter)
    return shown.team, shown.site


def _snapshot() -> tuple[dict[str, Any], int | None, str | None]:
    """The board for the filters asked for, committed: R9, the audit rows of the markers shown."""
    team_id, site = _filters()
    with unit_of_work() as uow:
        snap = board_json(board.snapshot(uow.session, current_staff(), utcnow(), org_settings.load(uow.session),
                                         team_id, site))
        uow.commit()
    return snap, team_id, site


@bp.get("/board")
@page_roles(Role.SUPERVISOR)
def board_page():
    snap, team_id, site = _snapshot()
    return render_template("board/board.html", snap=snap, team_id=team_id, site=site)


@bp.get("/board/state")
@page_roles(Role.SUPERVISOR)
def board_state():
    return jsonify(_snapshot()[0])


event_stream(bp, "/board/events", "board_events", Role.SUPERVISOR)
