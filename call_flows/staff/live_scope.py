"""Who may see which live event (issue 10; R9: least data per role). Each board or console stream
carries only what its reader may see:

- call events: a ringing call that no team owns yet (no `handler_id`, no `team_id`: its
  `call_ringing` and `call_status` events) goes to every reader, so it can be answered (R1); once a
  handler took it, only to that handler and to readers who watch its team;
- `team_lead_alert` (a named colleague's recovery after an abusive call): only to the lead named in it
  and to the supervisors who watch that team;
- any other kind (callback, register and deadline events) is for other pages: to no stream reader.

Plain values only (no Flask), so the same rule serves every stream and its tests."""
from typing import Any
from dataclasses import dataclass
from call_flows.vocabulary import Role

CALL_KINDS = frozenset({"call_ringing", "call_status", "call_accepted", "call_warned", "warning_played",
                        "call_terminated", "termination_played"})
UNOWNED_KINDS = frozenset({"call_ringing", "call_status"})  # the only kinds a call nobody has taken yet sends
LEAD_ALERT = "team_lead_alert"


@dataclass(frozen=True)
class Reader:
    """A stream's reader: `team_ids` are the teams they watch; None means every team (a supervisor
    without a team watches every team, as on the board)."""

    user_id: int
    role: str
    team_ids: frozenset[int] | None


def reader_for(user_id: int, role: str, team_id: int | None) -> Reader:
    """The reader a member of staff is: a supervisor without a team watches every team; anyone
    else watches their own team (or none)."""
    if role == Role.SUPERVISOR and team_id is None:
        return Reader(user_id, role, None)
    return Reader(user_id, role, frozenset({team_id}) if team_id is not None else frozenset())


def _watches(reader: Reader, team_id: int | None) -> bool:
    return reader.team_ids is None or (team_id is not None and team_id in reader.team_ids)


def may_see(reader: Reader, event: dict[str, Any]) -> bool:
    """True when `event` (a published live event: a dict with `kind` and the scope keys
    `handler_id`, `team_id`, `lead_id`) may be sent to `reader`. Unknown kinds are refused."""
    kind = event.get("kind")
    if kind in CALL_KINDS:
        handler_id, team_id = event.get("handler_id"), event.get("team_id")
        if handler_id is None and team_id is None:
            return kind in UNOWNED_KINDS  # still ringing: no team owns it yet (R1); else fail closed
        return handler_id == reader.user_id or _watches(reader, team_id)
    if kind == LEAD_ALERT:
        if event.get("lead_id") is not None and event.get("lead_id") == reader.user_id:
            return True
        return reader.role == Role.SUPERVISOR and _watches(reader, event.get("team_id"))
    return False


def shown(reader: Reader, event: dict[str, Any]) -> dict[str, Any]:
    """What of `event` (one `may_see` allowed) `reader` is sent: a call's board card (`card`, `place`:
    markers, flags, handler and team names) only to supervisors, whose board it updates (R9); a
    handler's console refetches its own view instead."""
    if reader.role == Role.SUPERVISOR:
        return event
    return {k: v for k, v in event.items() if k not in ("card", "place")}
