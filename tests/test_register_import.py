"""Importing and exporting a caution register kept in a spreadsheet (CONTRACT `register import`/`export`;
R2 markers, R4 content, R6 expiry, R9 audit). The CLI is driven through Flask's CLI runner."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from call_flows import live_events
from app.db import db_session
from call_flows.models import AuditLog, Customer, CustomerPhone, RegisterEntry
from call_flows.register.export import guard
from call_flows.register.merge import check
from tests.conftest import FROZEN_AT

HEADER = "name,phones,marker,precautions,added_on,last_reviewed_on,source,notified\n"
pytestmark = pytest.mark.usefixtures("frozen_clock")  # the dates below and the service agree on today
TODAY = FROZEN_AT.date()
RECENT = (TODAY - timedelta(days=30)).isoformat()
RECENT_UK = (TODAY - timedelta(days=40)).strftime("%d/%m/%Y")

MESSY = (HEADER
         + f"Alan Example,07700 900123; +44 (0)20 7946 0000,1,two officers,{RECENT_UK},,own,yes\n"
         + f'"Barbara ""Bee"" Test",+447700900124,3,"written contact only",{RECENT},{RECENT},partner,No\n'
         + ",,,,,,,\n"
         + "\n"
         + f"  A. Example  ,(020) 7946-0000 ; 0044 7700 900 999,2,appointment only,{RECENT},,OWN,Y\n"
         + f"Carol Intl,+33 1 23 45 67 89,3,,{RECENT},,own,no\n"
         + f"Alan Example,07700900123,1,two officers,{RECENT_UK},,own,yes\n")


def write(tmp_path, text, name="register.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8-sig"))
    return str(path)


def counts(app):
    with app.app_context():
        s = db_session()
        return {"customers": s.scalar(select(func.count()).select_from(Customer)),
                "phones": s.scalar(select(func.count()).select_from(CustomerPhone)),
                "entries": s.scalar(select(func.count()).select_from(RegisterEntry)),
                "audit": s.scalar(select(func.count()).select_from(AuditLog))}


def run_import(runner, path, *extra):
    return runner.invoke(args=["register", "import", path, *extra])


def test_messy_csv_is_normalised_to_e164_and_rows_sharing_a_number_merge(app, runner, tmp_path):
    result = run_import(runner, write(tmp_path, MESSY))
    assert result.exit_code == 0, result.output
    # Alan's three rows share numbers: one customer; lines 2 and 8 are one decision (marker 1, same date),
    # line 6 a second one (marker 2). Barbara and Carol are one entry each.
    assert result.stdout.splitlines()[-1] == "stored 4 entries and 5 numbers (3 new customers)"
    assert "line 2: merged with line(s) 6, 8 (a shared number)" in result.stdout
    with app.app_context():
        s = db_session()
        numbers = dict(s.execute(select(CustomerPhone.phone, CustomerPhone.customer_id)).all())
        assert set(numbers) == {"+447700900123", "+442079460000", "+447700900999", "+447700900124", "+33123456789"}
        assert numbers["+447700900123"] == numbers["+442079460000"] == numbers["+447700900999"]
        alan = s.get(Customer, numbers["+447700900123"])
        assert alan.name == "Alan Example"
        entries = s.scalars(select(RegisterEntry).where(RegisterEntry.customer_id == alan.id)
                            .order_by(RegisterEntry.marker)).all()
        assert [(e.marker, e.precautions, e.source, e.notified, e.status) for e in entries] == [
            (1, "two officers", "own", True, "in_force"), (2, "appointment only", "own", True, "in_force")]
        barbara = s.scalar(select(RegisterEntry).join(CustomerPhone, CustomerPhone.customer_id == RegisterEntry.customer_id)
                           .where(CustomerPhone.phone == "+447700900124"))
        assert barbara.source == "partner" and barbara.notified is False
        assert barbara.last_reviewed_on.date().isoformat() == RECENT
        assert s.get(Customer, barbara.customer_id).name == 'Barbara "Bee" Test'


def test_r6_imported_entries_expire_three_years_after_added_or_one_year_for_partners(app, runner, tmp_path):
    added = (TODAY - timedelta(days=10)).isoformat()
    text = (HEADER + f"Own,07700900201,3,,{added},,own,yes\n" + f"Partner,07700900202,2,,{added},,partner,yes\n"
            + f"Partner violent,07700900203,1,,{added},,partner,yes\n")
    assert run_import(runner, write(tmp_path, text)).exit_code == 0
    with app.app_context():
        s = db_session()
        ends = {p: e.expires_at.date() for p, e in s.execute(
            select(CustomerPhone.phone, RegisterEntry).join(RegisterEntry, RegisterEntry.customer_id == CustomerPhone.customer_id))}
    start = TODAY - timedelta(days=10)
    assert ends["+447700900201"] == start.replace(year=start.year + 3)
    assert ends["+447700900202"] == start.replace(year=start.year + 1)
    assert ends["+447700900203"] == start.replace(year=start.year + 3)  # R6: unless marker 1


def test_r6_rows_already_past_their_expiry_are_left_out_with_a_note(app, runner, tmp_path):
    text = (HEADER + "Long gone,07700900301,3,,2019-05-01,,own,yes\n"
            + f"Old partner,07700900302,2,,{(TODAY - timedelta(days=400)).isoformat()},,partner,yes\n"
            + f"Current,07700900303,2,,{RECENT},,own,yes\n")
    result = run_import(runner, write(tmp_path, text))
    assert result.exit_code == 0
    assert "line 2: left out: expired on 2022-05-01 (R6)" in result.stdout
    assert "line 3: left out: expired on" in result.stdout
    assert result.stdout.splitlines()[-1] == "stored 1 entries and 1 numbers (1 new customers)"
    assert counts(app)["phones"] == 1


BAD_ROWS = [
    ("Bad date,07700900401,2,,31/02/2026,,own,yes", "added_on '31/02/2026' is not a date (write 2026-03-01 or 01/03/2026)"),
    ("US date,07700900402,2,,2026/03/01,,own,yes", "added_on '2026/03/01' is not a date"),
    ("Bad marker,07700900403,4,,2026-01-01,,own,yes", "marker must be 1, 2 or 3 (R2), not '4'"),
    ("Word marker,07700900404,violent,,2026-01-01,,own,yes", "marker must be 1, 2 or 3 (R2), not 'violent'"),
    (",07700900405,2,,2026-01-01,,own,yes", "name is empty"),
    ("No phone,,2,,2026-01-01,,own,yes", "phones is empty (at least one number is needed)"),
    ("Bad phone,07700900406; call the office,2,,2026-01-01,,own,yes", "phones: 'call the office' is not a phone number"),
    ("Too short,12,2,,2026-01-01,,own,yes", "phones: '12' is not a phone number"),
    ("Bad source,07700900407,2,,2026-01-01,,council,yes", "source must be own or partner, not 'council'"),
    ("Bad notified,07700900408,2,,2026-01-01,,own,maybe", "notified must be yes or no, not 'maybe'"),
    ("Future,07700900409,2,,2999-01-01,,own,yes", "added_on 2999-01-01 is in the future"),
    ("Reviewed early,07700900410,2,,2026-01-01,2025-06-01,own,yes", "last_reviewed_on is before added_on"),
    ("No date,07700900411,2,,,,own,yes", "added_on is empty"),
    ("Short row,07700900412,2", "expected 8 fields, found 3"),
    ("N" * 201 + ",07700900413,2,,2026-01-01,,own,yes", "name is longer than 200 characters"),
    ("Long,07700900414,2," + "x" * 2001 + ",2026-01-01,,own,yes", "precautions is longer than 2000 characters"),
    ("Nul\x00,07700900415,2,,2026-01-01,,own,yes", "name contains control characters"),
]


def test_each_bad_row_is_reported_with_its_line_and_nothing_is_stored(app, runner, tmp_path):
    good = f"Good,07700900499,3,,{RECENT},,own,yes"
    text = HEADER + good + "\n" + "\n".join(row for row, _ in BAD_ROWS) + "\n"
    result = run_import(runner, write(tmp_path, text))
    assert result.exit_code != 0
    errors = result.stderr.splitlines()
    for number, (_, reason) in enumerate(BAD_ROWS, start=3):  # header 1, good row 2
        assert any(e.startswith(f"line {number}: ") and reason in e for e in errors), (number, reason, errors)
    assert not any(e.startswith("line 2:") for e in errors)
    assert errors[-1] == f"nothing stored: {len(BAD_ROWS)} bad row(s) in {len(BAD_ROWS) + 1} rows"
    assert result.stdout == ""
    assert counts(app) == {"customers": 0, "phones": 0, "entries": 0, "audit": 0}


def test_a_row_with_several_problems_lists_them_all_on_its_line(runner, tmp_path):
    result = run_import(runner, write(tmp_path, HEADER + "Two,07700900501,9,,01/13/2026,,own,yes\n"))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == ("line 2: marker must be 1, 2 or 3 (R2), not '9'; added_on '01/13/2026' "
                                             "is not a date (write 2026-03-01 or 01/03/2026)")


def test_header_problems_are_line_1(runner, tmp_path):
    result = run_import(runner, write(tmp_path, "name,phone,marker\nA,07700900601,1\n"))
    assert result.exit_code == 1
    assert result.stderr.startswith("line 1: missing column(s) phones, precautions, added_on, last_reviewed_on, "
                                    "source, notified; unknown column(s) phone")
    assert run_import(runner, write(tmp_path, "")).stderr.startswith("line 1: the file is empty")
    assert run_import(runner, write(tmp_path, HEADER)).stderr.startswith("line 2: no rows after the header")


def test_an_oversized_field_is_one_clear_error(app, runner, tmp_path):
    text = HEADER + f"Ok,07700900701,2,,{RECENT},,own,yes\n" + 'Runaway,07700900702,2,"' + "y" * 150_000 + "\n"
    result = run_import(runner, write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("line 3: cannot read this row: field larger than field limit")
    assert counts(app)["entries"] == 0


def test_dry_run_checks_and_counts_but_stores_nothing(app, runner, tmp_path):
    result = run_import(runner, write(tmp_path, MESSY), "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == ("dry run: would store 4 entries and 5 numbers (3 new customers); "
                                              "nothing was stored")
    assert counts(app) == {"customers": 0, "phones": 0, "entries": 0, "audit": 0}
    bad = run_import(runner, write(tmp_path, HEADER + "X,123,7,,,,,\n"), "--dry-run")
    assert bad.exit_code == 1 and bad.stderr.startswith("line 2: ")


def test_r9_each_imported_entry_is_audited_as_created_by_the_import(app, runner, tmp_path):
    assert run_import(runner, write(tmp_path, MESSY)).exit_code == 0
    with app.app_context():
        s = db_session()
        rows = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
        entry_ids = set(s.scalars(select(RegisterEntry.id)))
    assert {r.entity_id for r in rows} == entry_ids and len(rows) == 4
    assert all(r.action == "create" and r.entity == "register_entry" and r.actor_id is None
               and r.detail["via"] == "import" for r in rows)
    assert sorted(r.detail["lines"] for r in rows) == [[2, 8], [3], [6], [7]]


def test_importing_the_same_file_again_adds_nothing(app, runner, tmp_path):
    path = write(tmp_path, MESSY)
    assert run_import(runner, path).exit_code == 0
    before = counts(app)
    again = run_import(runner, path)
    assert again.exit_code == 0
    assert again.stdout.splitlines()[-1] == ("stored 0 entries and 0 numbers (0 new customers; "
                                             "4 entries already on the register, left unchanged)")
    assert counts(app) == before


def test_a_row_joins_the_customer_already_holding_its_number(app, runner, tmp_path):
    assert run_import(runner, write(tmp_path, HEADER + f"Dee,07700900801,3,,{RECENT},,own,yes\n")).exit_code == 0
    result = run_import(runner, write(tmp_path, HEADER + f"Dee,07700 900801;07700900802,1,two officers,{RECENT},,own,yes\n"))
    assert result.stdout.splitlines()[-1] == "stored 1 entries and 1 numbers (0 new customers)"
    assert counts(app)["customers"] == 1


def test_numbers_held_by_two_customers_already_are_refused(app, runner, tmp_path):
    first = HEADER + f"E,07700900901,3,,{RECENT},,own,yes\nF,07700900902,3,,{RECENT},,own,yes\n"
    assert run_import(runner, write(tmp_path, first)).exit_code == 0
    before = counts(app)
    result = run_import(runner, write(tmp_path, HEADER + f"EF,07700900901;07700900902,2,,{RECENT},,own,yes\n"))
    assert result.exit_code == 1
    assert result.stderr.startswith("line 2: its numbers belong to different customers already on the register")
    assert counts(app) == before


HOSTILE = (HEADER
           + f"=cmd|' /C calc'!A0,07700901001,1,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",{RECENT},,own,yes\n"
           + f"@SUM(1+1),07700901002,2,-2+3,{RECENT},,partner,no\n"
           + f"<script>alert(1)</script>,07700901003,3,+44 call first,{RECENT},{RECENT},own,yes\n")


def test_export_guards_formulas_and_round_trips(app, runner, tmp_path):
    assert run_import(runner, write(tmp_path, HOSTILE)).exit_code == 0
    out = tmp_path / "export.csv"
    result = runner.invoke(args=["register", "export", str(out)])
    assert result.exit_code == 0 and result.stdout.strip() == f"exported 3 entries to {out}"
    raw = out.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[0] == HEADER.strip().split(",")
    # No cell may start with a formula character (OWASP CSV injection); the phones (E.164, "+...") included.
    assert all(not cell or cell[0] not in "=+-@\t\r" for row in rows for cell in row)
    assert rows[1][0] == "'=cmd|' /C calc'!A0" and rows[1][3] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert rows[1][1] == "'+447700901001"
    assert rows[2][0] == "'@SUM(1+1)" and rows[2][3] == "'-2+3"
    # Round trip: the export reads back as the same people, the guards removed.
    now = datetime.now(timezone.utc)
    original, exported = check(HOSTILE, "GB", now), check(raw, "GB", now)
    assert not exported.errors
    assert [(p.name, p.phones, [vars(e) for e in p.entries]) for p in exported.people] == \
           [(p.name, p.phones, [vars(e) for e in p.entries]) for p in original.people]
    # And importing it into the same register adds nothing.
    again = run_import(runner, str(out))
    assert again.stdout.splitlines()[-1].startswith("stored 0 entries and 0 numbers")


def test_export_writes_only_entries_in_force_and_audits_each_view(app, runner, tmp_path):
    assert run_import(runner, write(tmp_path, MESSY)).exit_code == 0
    with app.app_context():
        s = db_session()
        gone = s.scalar(select(RegisterEntry).where(RegisterEntry.marker == 3, RegisterEntry.source == "partner"))
        gone.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)  # R6: past its expiry
        withdrawn = s.scalar(select(RegisterEntry).where(RegisterEntry.marker == 2))
        withdrawn.status = "removed"
        s.commit()
        kept = {e for e in s.scalars(select(RegisterEntry.id).where(RegisterEntry.id.not_in([gone.id, withdrawn.id])))}
    out = tmp_path / "export.csv"
    assert runner.invoke(args=["register", "export", str(out)]).exit_code == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))[1:]
    assert sorted(r[0] for r in rows) == ["Alan Example", "Carol Intl"]
    assert rows[0][1] == "'+447700900123; +442079460000; +447700900999"
    with app.app_context():
        views = db_session().scalars(select(AuditLog).where(AuditLog.action == "view")).all()
    assert {v.entity_id for v in views} == kept and all(v.detail == {"via": "export"} for v in views)


def test_r1_an_imported_number_flags_at_ring_time(app, runner, tmp_path, ring, staff):
    assert run_import(runner, write(tmp_path, MESSY)).exit_code == 0
    subscription = live_events.subscription(app.extensions["events"])
    try:
        sid, response = ring(from_="+447700900999")  # imported as "0044 7700 900 999" on line 6
        assert response.status_code == 200
        event = subscription.get(timeout=2)
    finally:
        subscription.close()
    assert event["kind"] == "call_ringing" and event["marker"] == 1  # R2: the person's most serious marker
    handler = staff.add("handler", "call_handler")
    assert app.test_client().post(f"/api/v1/calls/{sid}/accept", headers=handler["headers"]).status_code == 200
    flags = app.test_client().get("/api/v1/callers/07700900999", headers=handler["headers"]).get_json()
    assert flags["register"] == {"marker": 1, "precautions": "two officers"}


@pytest.mark.parametrize("value, expected", [("=1+1", "'=1+1"), ("+44", "'+44"), ("-x", "'-x"), ("@a", "'@a"),
                                             ("\tx", "'\tx"), ("plain", "plain"), ("", ""), ("a=b", "a=b")])
def test_guard_prefixes_only_cells_a_spreadsheet_would_evaluate(value, expected):
    assert guard(value) == expected


def big_register(rows: int) -> tuple[str, int, int]:
    """A spreadsheet-sized register in mixed formats; every 50th row shares a number with the row
    before (a merge). Returns (text, entries expected, numbers expected)."""
    lines, numbers, entries = [HEADER], 0, 0
    for i in range(rows):
        number = 7400000000 + i
        national = f"0{number}"
        formats = (f"{national[:5]} {national[5:]}", f"+44 {str(number)[:4]} {str(number)[4:]}", f"0044{number}")
        phones = formats[i % 3]
        numbers += 1
        if i % 10 == 0:
            phones += f"; 0{7500000000 + i}"
            numbers += 1
        added = TODAY - timedelta(days=1 + i % 300)
        day = added.isoformat() if i % 2 else added.strftime("%d/%m/%Y")
        if i % 50 == 49:  # shares the previous row's number, same decision: merges into one entry
            prev = 7400000000 + i - 1
            phones += f"; +44{prev}"
            added, day = TODAY - timedelta(days=1 + (i - 1) % 300), lines[-1].split(",")[4]
            marker, source = lines[-1].split(",")[2], lines[-1].split(",")[6]
        else:
            entries += 1
            marker, source = str(1 + i % 3), ("own", "partner")[i % 4 == 0]
        lines.append(f"Customer {i},{phones},{marker},precaution {i % 7},{day},,{source},{('yes', 'no')[i % 5 == 0]}\n")
    return "".join(lines), entries, numbers


def test_ten_thousand_rows_import_and_export_in_seconds(app, runner, tmp_path):
    import time

    text, entries, numbers = big_register(10_000)
    path = write(tmp_path, text)
    started = time.perf_counter()
    result = run_import(runner, path)
    took = time.perf_counter() - started
    assert result.exit_code == 0, result.stderr[:2000]
    assert result.stdout.splitlines()[-1] == f"stored {entries} entries and {numbers} numbers ({entries} new customers)"
    out = tmp_path / "export.csv"
    started = time.perf_counter()
    assert runner.invoke(args=["register", "export", str(out)]).exit_code == 0
    exported = time.perf_counter() - started
    print(f"\n10,000-row register on {app.extensions['engine'].dialect.name}: import {took:.2f} s "
          f"({entries} entries, {numbers} numbers), export {exported:.2f} s")
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == entries + 1
    assert counts(app)["audit"] == 2 * entries  # R9: created, then viewed by the export


def test_empty_trailing_columns_from_a_spreadsheet_are_ignored(app, runner, tmp_path):
    text = (HEADER.strip() + ",,\n" + f"Trailing,07700901101,3,,{RECENT},,own,yes,,\n"
            + f"Exact,07700901102,3,,{RECENT},,own,yes\n" + f"Extra,07700901103,3,,{RECENT},,own,yes,surprise\n")
    result = run_import(runner, write(tmp_path, text))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["line 4: expected 8 fields, found 9", "nothing stored: 1 bad row(s) in 3 rows"]
