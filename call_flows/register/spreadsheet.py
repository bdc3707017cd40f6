"""Reading a caution register kept in a spreadsheet (CONTRACT `register import`, DOMAIN R2, R4, R6).

Why its own module: an organisation moving to callguard brings entries its panel decided before
(R3 happened outside the service), so every row is checked here, without Flask or the database,
and a file with any bad row is refused whole. `line N` counts the header as line 1 and is the
physical line a row starts on (they differ from spreadsheet row numbers only when a cell holds a
line break). Merging checked rows into people is `merge`; storing them is `store`; writing the CSV is `export`.
"""
import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable

from call_flows.errors import InvalidPhone
from call_flows.phone import rejoin_extensions, to_e164
from call_flows.register.rules import expires_at
from call_flows.vocabulary import RegisterSource

COLUMNS = ("name", "phones", "marker", "precautions", "added_on", "last_reviewed_on", "source", "notified")
MAX_NAME = 200  # customers.name
MAX_PRECAUTIONS = 2000
MAX_PHONES_TEXT = 500
MAX_PHONES = 20
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as a formula (OWASP CSV injection)
YES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}
UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # PostgreSQL text cannot hold NUL at all


@dataclass(frozen=True)
class RowError:
    """`line N: reason`, the header being line 1 (CONTRACT)."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class Decision:
    """What a row, and an entry merged from rows, says the panel decided (R2 marker, R6 dates)."""

    marker: int
    precautions: str | None
    added_on: date
    last_reviewed_on: date | None
    source: str
    notified: bool

    @property
    def expires_at(self) -> datetime:
        return expires_at(self.added_on, self.source, self.marker)  # R6


@dataclass(kw_only=True)
class Row(Decision):
    line: int
    name: str
    phones: list[str]


def decode(data: bytes) -> str:
    """Spreadsheets save UTF-8 (often with a BOM) or, on Windows, cp1252."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def unescape(value: str) -> str:
    """Undo the export's formula guard (`'=...` back to `=...`), so an export imports unchanged."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def parse_date(text: str, column: str) -> date:
    """ISO `2026-03-01` or UK `01/03/2026` (day first), nothing looser: 03/01 must never mean 1 March."""
    iso, uk = ISO_DATE.fullmatch(text), UK_DATE.fullmatch(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if uk:
            return date(int(uk[3]), int(uk[2]), int(uk[1]))
    except ValueError:
        pass
    raise ValueError(f"{column} '{_show(text)}' is not a date (write 2026-03-01 or 01/03/2026)")


def _show(text: str, limit: int = 40) -> str:
    clipped = CONTROL.sub("?", text[:limit])
    return clipped + ("..." if len(text) > limit else "")


def _text(value: str, column: str, limit: int, reasons: list[str]) -> str:
    if len(value) > limit:
        reasons.append(f"{column} is longer than {limit} characters")
    elif CONTROL.search(value):
        reasons.append(f"{column} contains control characters")
    return value


def _phones(value: str, region: str, reasons: list[str]) -> list[str]:
    if len(value) > MAX_PHONES_TEXT:
        reasons.append(f"phones is longer than {MAX_PHONES_TEXT} characters")
        return []
    found: list[str] = []
    for piece in rejoin_extensions([unescape(p.strip()) for p in value.split(";")], region):
        if not piece:
            continue
        try:
            number = to_e164(piece, region)
        except InvalidPhone as exc:  # the reason is phone.to_e164's plain sentence (extension, placeholder...)
            hint = " (separate numbers with ;)" if any(c in piece for c in "/|") else ""
            reasons.append(f"phones: {_show(exc.message, 400)}{hint}")
            continue
        if number not in found:
            found.append(number)
    if not found and not any("phones:" in r for r in reasons):
        reasons.append("phones is empty (at least one number is needed)")
    elif len(found) > MAX_PHONES:
        reasons.append(f"phones holds more than {MAX_PHONES} numbers")
    return found


def check_row(line: int, cells: dict[str, str], region: str, today: date) -> tuple[Row | None, list[str]]:
    """One data row: the Row, or the reasons it is refused (every reason, so one pass fixes the file)."""
    reasons: list[str] = []
    get = {k: unescape(v.strip()) for k, v in cells.items()}
    name = _text(get["name"], "name", MAX_NAME, reasons)
    if not name:
        reasons.append("name is empty")
    phones = _phones(cells["phones"], region, reasons)
    marker = get["marker"]
    if marker not in ("1", "2", "3"):
        reasons.append(f"marker must be 1, 2 or 3 (R2), not '{_show(marker)}'")
    precautions = _text(get["precautions"], "precautions", MAX_PRECAUTIONS, reasons) or None
    added_on = reviewed = None
    try:
        if not get["added_on"]:
            raise ValueError("added_on is empty")
        added_on = parse_date(get["added_on"], "added_on")
        if added_on > today:
            reasons.append(f"added_on {added_on.isoformat()} is in the future")
    except ValueError as exc:
        reasons.append(str(exc))
    try:
        reviewed = parse_date(get["last_reviewed_on"], "last_reviewed_on") if get["last_reviewed_on"] else None
        if reviewed and reviewed > today:
            reasons.append(f"last_reviewed_on {reviewed.isoformat()} is in the future")
        if reviewed and added_on and reviewed < added_on:
            reasons.append("last_reviewed_on is before added_on")
    except ValueError as exc:
        reasons.append(str(exc))
    source = get["source"].lower()
    if source not in tuple(RegisterSource):
        reasons.append(f"source must be own or partner, not '{_show(get['source'])}'")
    notified = YES.get(get["notified"].lower())
    if notified is None:
        reasons.append(f"notified must be yes or no, not '{_show(get['notified'])}'")
    if reasons:
        return None, reasons
    assert added_on is not None and notified is not None  # else a reason was given
    return Row(line=line, name=name, phones=phones, marker=int(marker), precautions=precautions, added_on=added_on,
               last_reviewed_on=reviewed, source=source, notified=notified), []


def read_rows(text: str, region: str, today: date,
              progress: Callable[[int], None] | None = None) -> tuple[list[Row], list[RowError], int]:
    """Check every row; returns (rows, errors, number of data rows). Blank rows are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""))  # csv's field limit turns a runaway quote into one error
    rows: list[Row] = []
    errors: list[RowError] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [RowError(1, f"cannot read the header: {exc}")], 0
    if header is None:
        return [], [RowError(1, "the file is empty (expected a header row: " + ",".join(COLUMNS) + ")")], 0
    names = [h.strip().lower() for h in header]
    while names and not names[-1]:  # spreadsheets often save empty trailing columns
        names.pop()
    missing = [c for c in COLUMNS if c not in names]
    unknown = [h for h in names if h not in COLUMNS]
    dupes = sorted({h for h in names if names.count(h) > 1})
    if missing or unknown or dupes:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                ([f"unknown column(s) {', '.join(_show(u) for u in unknown)}"] if unknown else []) + \
                ([f"repeated column(s) {', '.join(dupes)}"] if dupes else [])
        return [], [RowError(1, "; ".join(parts) + " (expected " + ",".join(COLUMNS) + ")")], 0
    count, start = 0, reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(start, f"cannot read this row: {exc}"))
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        count += 1
        if progress and count % 500 == 0:
            progress(count)
        if len(record) > len(names) and not any(cell.strip() for cell in record[len(names):]):
            record = record[:len(names)]
        if len(record) != len(names):
            errors.append(RowError(line, f"expected {len(names)} fields, found {len(record)}"))
            continue
        row, reasons = check_row(line, dict(zip(names, record, strict=True)), region, today)
        if row:
            rows.append(row)
        else:
            errors.append(RowError(line, "; ".join(reasons)))
    if count == 0 and not errors:
        errors.append(RowError(2, "no rows after the header"))
    return rows, errors, count
