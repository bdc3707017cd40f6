"""The soak's invariants (issue 13 item 7), read from the database and the stand-in's record after
the traffic has settled. Each check returns a list of failures (empty: it holds)."""
import time
from collections import Counter

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.soak_shape import MANAGER_PHONE
from call_flows.models import Call, CallbackTask, CallWarning, Termination

SETTLED = ("played", "caller_left", "failed")  # CONTRACT: platform_status once the worker is done


def requests_answered(records: list[dict]) -> list[str]:
    """Every request answered (no lost connection, no time-out), no 5xx, each with its expected status."""
    lost = [r for r in records if r["status"] is None]
    errors = [r for r in records if r["status"] is not None and r["status"] >= 500]
    unexpected = Counter((r["kind"], r["status"]) for r in records
                         if r["status"] is not None and r["status"] < 500 and r["status"] != r["expect"])
    lost_kinds = ", ".join(f"{n} x {kind}" for kind, n in sorted(Counter(r["kind"] for r in lost).items()))
    return ([f"{len(lost)} requests lost (no answer: {lost_kinds})"] * bool(lost)
            + [f"{len(errors)} answers were 5xx"] * bool(errors)
            + [f"{n} x {kind} answered {status}" for (kind, status), n in unexpected.items()])


class Ledger:
    """What the service should have done for the traffic, compared with what the database and the
    stand-in hold. `traffic` is a finished bench.soak_traffic.Traffic."""

    def __init__(self, traffic, database_url: str):
        self.traffic, self.standin = traffic, traffic.shape.standin
        self.engine = create_engine(database_url)
        rung = {r["sid"] for r in traffic.records if r["kind"] == "ring" and r["status"] == 200}
        self.rung = sorted(rung)
        self.accepted = {r["sid"] for r in traffic.records if r["kind"] == "accept" and r["status"] == 200}
        self.pressed = Counter(sid for sid, presses in traffic.presses.items() for _ in presses)

    def _rows(self, model) -> list:
        with Session(self.engine) as session:
            return session.execute(select(Call.call_sid, model.platform_status).join(Call, Call.id == model.call_id)
                                   .where(Call.call_sid.in_(self.rung))).all()

    def unsettled(self) -> int:
        """Acts whose platform status is not final yet, plus calls not yet `completed`."""
        rows = self._rows(CallWarning) + self._rows(Termination)
        with Session(self.engine) as session:
            open_calls = session.scalar(select(func.count(Call.id)).where(Call.call_sid.in_(self.rung),
                                                                         Call.status != "completed"))
        return sum(1 for _, status in rows if status not in SETTLED) + open_calls

    def settle(self, timeout: float, quiet: float = 5.0) -> bool:
        """Wait until every act is settled and every call completed, then `quiet` s more (a duplicate
        side effect, e.g. an outbox retry after a lease ran out, would land meanwhile)."""
        deadline = time.monotonic() + timeout
        while self.unsettled() and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(quiet)
        return not self.unsettled()

    def database(self) -> list[str]:
        """Every ring stored once, every accepted press stored once and played, exactly one callback
        task per termination (T5), one callback call per dial, every call ended (status callbacks)."""
        failures = []
        with Session(self.engine) as session:
            calls = session.scalar(select(func.count(Call.id)).where(Call.call_sid.in_(self.rung)))
            open_calls = session.scalar(select(func.count(Call.id)).where(Call.call_sid.in_(self.rung),
                                                                         Call.status != "completed"))
            terminated = session.execute(select(Termination.call_id).join(Call, Call.id == Termination.call_id)
                                         .where(Call.call_sid.in_(self.rung))).scalars().all()
            tasks = Counter(session.execute(select(CallbackTask.call_id)
                                            .where(CallbackTask.call_id.in_(terminated))).scalars().all())
            callback_calls = session.scalar(select(func.count(Call.id)).where(Call.direction == "callback"))
        if calls != len(self.rung):
            failures.append(f"{len(self.rung)} rings answered but {calls} calls stored")
        if open_calls:
            failures.append(f"{open_calls} calls never reached `completed` (status callbacks)")
        stored = Counter(sid for sid, _ in self._rows(CallWarning) + self._rows(Termination))
        if stored != self.pressed:
            failures.append(f"acts stored {sum(stored.values())} != acts pressed (201) {sum(self.pressed.values())}")
        not_played = [s for _, s in self._rows(CallWarning) + self._rows(Termination) if s != "played"]
        if not_played:
            failures.append(f"{len(not_played)} acts not played: {Counter(not_played)}")
        wrong = [call_id for call_id in terminated if tasks[call_id] != 1]
        if wrong:
            failures.append(f"{len(wrong)} terminations without exactly one callback task")
        if callback_calls != len(self.traffic.dialled):
            failures.append(f"{len(self.traffic.dialled)} dials (202) but {callback_calls} callback calls stored")
        return failures

    def side_effects(self) -> list[str]:
        """At the stand-in: each press's redirect accepted once, the handler rung in once per accept,
        each dialled callback placed once (the manager's phone, bridging to the customer)."""
        failures = []
        log = [r for r in list(self.standin.log) if r["method"] == "POST"]
        redirects = Counter(r["sid"] for r in log if r["sid"] and r["status"] == 200)
        if redirects != self.pressed:
            extra = sum(((redirects - self.pressed) + (self.pressed - redirects)).values())
            failures.append(f"redirects at the stand-in differ from presses on {extra} (duplicates or missing)")
        joined = Counter(r["path"].split("/Conferences/cg-")[1].split("/")[0] for r in log
                         if "/Conferences/cg-" in r["path"] and r["path"].endswith("/Participants.json"))
        if joined != Counter(self.accepted):
            failures.append(f"{len(self.accepted)} accepts but handlers rung in {sum(joined.values())} times "
                            f"({len([s for s, n in joined.items() if n > 1])} twice or more)")
        placed = Counter(caller for r in log if r["path"].endswith("/Calls.json") and r["form"].get("To") == MANAGER_PHONE
                         for caller in self.traffic.dialled if caller in r["form"].get("Twiml", ""))
        if placed != Counter(self.traffic.dialled.keys()):
            failures.append(f"{len(self.traffic.dialled)} callbacks dialled but {sum(placed.values())} placed "
                            f"({len([c for c, n in placed.items() if n > 1])} more than once)")
        return failures
