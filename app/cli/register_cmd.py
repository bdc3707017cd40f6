"""`flask --app wsgi register import PATH.csv [--dry-run]` and `register export PATH.csv` (CONTRACT).

Why all or nothing: a half-loaded register would flag some dangerous callers and silently miss
others (R1), so every bad row is reported (`line N: reason` on stderr, the header being line 1)
and nothing is stored until the whole file is good.
"""
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from call_flows.clock import utcnow
from call_flows.errors import Conflict
from call_flows.register.export import export
from call_flows.register.merge import check
from call_flows.register.spreadsheet import decode
from call_flows.register.store import Stored, store

from ..db import unit_of_work


@click.group("register", help="The caution register (R1-R9): import from and export to CSV.")
def group():
    pass


def summary(stored: Stored, dry_run: bool) -> str:
    """The last line the command prints: how many entries and numbers it stored."""
    verb = "would store" if dry_run else "stored"
    text = f"{verb} {stored.entries} entries and {stored.numbers} numbers ({stored.customers} new customers"
    if stored.already_held:
        text += f"; {stored.already_held} entries already on the register, left unchanged"
    text += ")"
    return f"dry run: {text}; nothing was stored" if dry_run else text


@group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be stored; store nothing.")
@with_appcontext
def import_cmd(path: Path, dry_run: bool):
    """Load a caution register kept in a spreadsheet (columns: name,phones,marker,precautions,
    added_on,last_reviewed_on,source,notified). Any bad row: nothing is stored, exit status 1."""
    now = utcnow()
    checked = check(decode(path.read_bytes()), current_app.config["DEFAULT_REGION"], now)
    stored = Stored(errors=checked.errors)
    with unit_of_work() as uow:  # leaving it without a commit (a bad row, a dry run) rolls back
        if not checked.errors:
            try:
                stored = store(uow.session, checked.people, now, dry_run=dry_run)
            except Conflict as exc:
                click.echo(f"nothing stored: {exc.message}", err=True)
                sys.exit(1)
        if stored.errors:
            for error in stored.errors:
                click.echo(str(error), err=True)
            click.echo(f"nothing stored: {len(stored.errors)} bad row(s) in {checked.rows} rows", err=True)
            sys.exit(1)
        for note in sorted(checked.notes + stored.notes, key=lambda n: n.line):
            click.echo(str(note))
        if not dry_run:
            uow.commit()
    click.echo(summary(stored, dry_run))


@group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def export_cmd(path: Path):
    """Write the entries in force to PATH as CSV, in the import's columns (each export is audited, R9)."""
    with unit_of_work() as uow:
        with path.open("w", encoding="utf-8-sig", newline="") as out:  # the BOM lets Excel read UTF-8
            count = export(uow.session, out, utcnow())
        uow.commit()  # R9: each entry's export is audited
    click.echo(f"exported {count} entries to {path}")
