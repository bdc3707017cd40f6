"""A register import started from the admin page, run as an outbox job with progress (CONTRACT, R9).

Why a job: checking and storing a long file takes seconds, so the upload answers at once and the
page polls the run's progress; in the embedded default the job runs in-process before the page
shows. Progress is written on its own connection so it is visible while the import's single
transaction is still open (all or nothing). SQLite allows one writer at a time, so there the
progress is only recorded at the end of each phase.
"""
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from call_flows.jobs import outbox
from call_flows.errors import Conflict, InvalidInput
from call_flows.models.imports import RegisterImportRun
from call_flows.register.merge import check
from call_flows.register.spreadsheet import RowError, decode
from call_flows.register.store import store

MAX_BYTES = 10 * 1024 * 1024
FINISHED = ("done", "rejected")


def start(session: Session, filename: str, data: bytes, actor_id: int | None, region: str, now: datetime,
          dry_run: bool = False) -> RegisterImportRun:
    """Keep the upload on a new run and record the job that imports it. The caller commits and dispatches."""
    if not data.strip():
        raise InvalidInput("the file is empty: choose a CSV file with a header row")
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it and import each part")
    run = RegisterImportRun(created_by_id=actor_id, filename=(filename or "register.csv")[:200], status="queued",
                            dry_run=dry_run, percent=0, rows=0, entries=0, numbers=0, customers=0, already_held=0,
                            errors=[], notes=[], csv_text=decode(data), created_at=now)
    session.add(run)
    session.flush()
    outbox.record(session, f"register-import-{run.id}", run_import, {"run_id": run.id, "region": region},
                  now=now)
    return run


def _progress_writer(session: Session, run_id: int) -> Callable[[str, int], None]:
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return lambda status, percent: None
    assert isinstance(bind, Engine)  # progress is written on a connection of its own (real commits)

    def write(status: str, percent: int) -> None:
        with bind.begin() as conn:
            conn.execute(update(RegisterImportRun).where(RegisterImportRun.id == run_id)
                         .values(status=status, percent=percent))

    return write


@outbox.task
def run_import(session: Session, ctx: Any, now: datetime, run_id: int, region: str) -> None:
    """Check the whole file (0-50%), then store it in one transaction (50-100%) or store nothing."""
    run = session.get(RegisterImportRun, run_id)
    if run is None or run.status in FINISHED:
        return  # a repeated hand-over does nothing a second time
    text = run.csv_text or ""
    write = _progress_writer(session, run_id)
    expected = max(1, text.count("\n"))
    write("checking", 1)
    checked = check(text, region, now, progress=lambda rows: write("checking", min(49, 50 * rows // expected)))
    errors: list[RowError | dict[str, Any]] = list(checked.errors)
    notes = list(checked.notes)
    stored = None
    if not errors:
        write("storing", 50)
        try:
            stored = store(session, checked.people, now, dry_run=run.dry_run, actor_id=run.created_by_id,
                           progress=lambda done, total: write("storing", 50 + 50 * done // max(1, total)),
                           run=run_id)
            errors += stored.errors
            notes += stored.notes
        except Conflict as exc:  # store() rolled the transaction back
            errors.append({"line": None, "reason": exc.message})
        run = session.get_one(RegisterImportRun, run_id)  # read again: store() may have rolled back
    run.rows = checked.rows
    run.errors = [_plain(e) for e in errors]
    run.notes = [_plain(n) for n in sorted(notes, key=lambda n: n.line)]
    if stored and not stored.errors:
        run.entries, run.numbers = stored.entries, stored.numbers
        run.customers, run.already_held = stored.customers, stored.already_held
    run.status = "rejected" if errors else "done"
    run.percent = 100
    run.csv_text = None  # R9: the upload is not kept once imported
    run.finished_at = now


def _plain(item: RowError | dict[str, Any]) -> dict[str, Any]:
    return item if isinstance(item, dict) else {"line": item.line, "reason": item.reason}


def finished(run: RegisterImportRun) -> bool:
    """Whether the run has stopped (stored everything, or rejected the file): the page stops polling."""
    return run.status in FINISHED
