"""Merging checked register rows into people and their entries (CONTRACT `register import`, R2, R5, R6).

Rows that share a number are one customer; rows of one customer with the same marker, date added and
source are one panel decision. `check` reads a whole file (`spreadsheet.read_rows`) and merges it.
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

from call_flows.clock import local_date
from call_flows.register.spreadsheet import Decision, Row, RowError, read_rows


@dataclass(kw_only=True)
class Entry(Decision):
    """One panel decision: rows of the same person with the same marker, date added and source."""

    lines: list[int]


@dataclass
class Person:
    """Rows that share a number are one customer (CONTRACT: rows for the same person merge)."""

    lines: list[int]
    name: str
    phones: list[str]
    entries: list[Entry]


@dataclass
class Checked:
    people: list[Person]
    errors: list[RowError]
    notes: list[RowError]  # not errors: expired rows left out, rows merged
    rows: int


def _entries(group: list[Row]) -> list[Entry]:
    """Rows with the same marker, date added and source are one decision written twice: one entry
    with every distinct precaution, the latest review, and `notified` only if every row says so
    (a "no" needs checking, R5). Different decisions stay separate entries, each with its own R6
    expiry; ring time shows the most serious marker (R2)."""
    decisions: dict[tuple[Any, ...], list[Row]] = {}
    for row in group:
        decisions.setdefault((row.marker, row.added_on, row.source), []).append(row)
    entries = []
    for (marker, added_on, source), rows in decisions.items():
        precautions = list(dict.fromkeys(r.precautions for r in rows if r.precautions))
        reviewed = [r.last_reviewed_on for r in rows if r.last_reviewed_on]
        entries.append(Entry(lines=[r.line for r in rows], marker=marker, precautions="; ".join(precautions) or None,
                             added_on=added_on, last_reviewed_on=max(reviewed) if reviewed else None,
                             source=source, notified=all(r.notified for r in rows)))
    return entries


def merge(rows: Iterable[Row]) -> list[Person]:
    """Rows sharing a number, directly or through another row, are the same person: one customer
    with every number, named as on the person's first row."""
    rows = list(rows)
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, row in enumerate(rows):
        for number in row.phones:
            if number in owner:
                parent[find(i)] = find(owner[number])
            else:
                owner[number] = i
    groups: dict[int, list[Row]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(find(i), []).append(row)
    return [Person(lines=[r.line for r in group], name=group[0].name,
                   phones=list(dict.fromkeys(n for r in group for n in r.phones)), entries=_entries(group))
            for group in sorted(groups.values(), key=lambda g: g[0].line)]


def check(text: str, region: str, now: datetime,
          progress: Callable[[int], None] | None = None) -> Checked:
    """Read, check and merge a whole file. Rows already past their R6 expiry are left out with a
    note, not refused: R6 says no entry stays longer, so they have nothing to flag."""
    rows, errors, count = read_rows(text, region, local_date(now), progress)
    notes, live = [], []
    for row in rows:
        ends = row.expires_at
        if ends <= now:
            notes.append(RowError(row.line, f"left out: expired on {ends.date().isoformat()} (R6)"))
        else:
            live.append(row)
    people = merge(live)
    for person in people:
        if len(person.lines) > 1:
            notes.append(RowError(person.lines[0], "merged with line(s) "
                                  + ", ".join(str(n) for n in person.lines[1:]) + " (a shared number)"))
    notes.sort(key=lambda n: n.line)
    return Checked(people=people, errors=errors, notes=notes, rows=count)
