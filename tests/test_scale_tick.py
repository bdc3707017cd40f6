"""Issue 13 item 5: the minute tick reads reviews due (R6) through an index, page by page, and finds
exactly the entries and dates the calendar rule (`register_rules.review_due`) gives, month ends included;
a backlog (reviews, expiries, overdue callbacks, retries) is worked off in bounded batches, each once."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import event, select

from app.db import db_session
from call_flows import settings as org_settings
from call_flows.incidents import deadlines
from call_flows.jobs import outbox
from call_flows.jobs.mail import send_email
from call_flows.models import (
    AuditLog,
    CallbackTask,
    Customer,
    EmailDelivery,
    OutboxJob,
    RegisterEntry,
    RegisterReminder,
    Team,
    User,
)
from call_flows.register import reminders
from call_flows.register import reviews as register_reviews
from call_flows.register import rules as register_rules
from call_flows.vocabulary import Role

UTC = timezone.utc


def _register(session, starts: list[tuple[datetime, datetime | None]], status="in_force") -> None:
    for i, (added, reviewed) in enumerate(starts):
        customer = Customer(name=f"Customer {i}", created_at=added)
        session.add(customer)
        session.flush()
        session.add(RegisterEntry(customer_id=customer.id, status=status, marker=1 + i % 3, source="own",
                                  notified=True, added_on=added, last_reviewed_on=reviewed,
                                  expires_at=added + timedelta(days=1000), created_at=added))
    session.flush()


def _by_the_rule(session, now: datetime) -> list[tuple[int, str]]:
    """What the tick found before issue 13: every entry in force, the rule applied in Python."""
    found = []
    for entry in session.scalars(select(RegisterEntry).where(RegisterEntry.status == "in_force")):
        when = register_rules.review_due(entry.added_on, entry.last_reviewed_on)
        if when <= now:
            found.append((entry.id, when.isoformat()))
    return sorted(found, key=lambda item: (item[1], item[0]))


def test_r6_reviews_due_are_those_of_the_calendar_rule_at_month_ends_and_across_pages(app):
    now = datetime(2027, 2, 28, 12, 0, tzinfo=UTC)  # 31 Aug + 6 months is 28 Feb: the clamped month end
    starts = []
    for day in range(20, 32):  # 20-31 Aug 2026, either side of noon, added or last reviewed
        for hour in (11, 12, 13):
            moment = datetime(2026, 8, day, hour, 0, tzinfo=UTC)
            starts.append((moment, None))
            starts.append((moment - timedelta(days=300), moment))
    starts += [(datetime(2026, 9, 1, tzinfo=UTC), None), (datetime(2025, 1, 31, tzinfo=UTC), None)]
    with app.app_context():
        s = db_session()
        _register(s, starts)
        _register(s, [(datetime(2025, 1, 1, tzinfo=UTC), None)], status="removed")  # not in force: never due
        expected = _by_the_rule(s, now)
        paged = [(d.id, d.review_due.isoformat()) for d in register_reviews.iter_reviews_due(s, now, page=7)]
        listed = [(d.id, d.review_due.isoformat()) for d in register_reviews.reviews_due(s, now)]
    assert sorted(paged, key=lambda item: (item[1], item[0])) == expected
    assert sorted(listed, key=lambda item: (item[1], item[0])) == expected
    # 28-31 Aug at 13:00 all fall due on 28 Feb at 13:00, an hour away; 31 Aug at 12:00 is due already
    assert len(expected) == 2 * (12 * 3 - 4) + 1


def test_r6_the_tick_reminds_of_each_review_once_per_cycle(app):
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with app.app_context():
        s = db_session()
        _register(s, [(datetime(2026, 9, 1, tzinfo=UTC), None), (datetime(2026, 8, 1, tzinfo=UTC), None)])
        first = register_reviews.remind_panel(s, now)
        again = register_reviews.remind_panel(s, now + timedelta(minutes=1))
        entry = s.scalars(select(RegisterEntry).order_by(RegisterEntry.id)).first()
        entry.last_reviewed_on = now + timedelta(minutes=2)  # kept at review: a new cycle, a new reminder later
        s.flush()
        later = register_reviews.remind_panel(s, now + timedelta(days=200))
    reviews = lambda made: sorted(m["entry_id"] for m in made if m["kind"] == "review_due")  # noqa: E731
    assert len(reviews(first)) == 2 and reviews(again) == []
    assert reviews(later) == [entry.id]


def _statements(session):
    """Count the SQL statements sent on `session`'s engine (a list that grows as they run)."""
    sent = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_r6_a_backlog_of_due_reviews_is_reminded_in_bounded_batches_each_once(app, monkeypatch):
    """Issue 13 item 5: 25 reviews due at once (e.g. after downtime) with two panel addresses: each
    tick makes at most `per_tick` reminders, `BATCH` per statement; the next ticks carry on, most
    overdue first, and every reminder and email (one outbox job each) is made exactly once."""
    monkeypatch.setattr(reminders, "BATCH", 4)
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    settings = org_settings.OrgSettings(recipient_review_panel="panel@example.org, chair@example.org")
    with app.app_context():
        s = db_session()
        _register(s, [(datetime(2026, 8, 1, tzinfo=UTC) + timedelta(hours=i), None) for i in range(25)])
        sent = _statements(s)
        ticks = [register_reviews.remind_panel(s, now + timedelta(minutes=m), settings, per_tick=10)
                 for m in range(4)]
        s.flush()
        reminded = s.execute(select(RegisterReminder.entry_id, RegisterReminder.key)
                             .order_by(RegisterReminder.id)).all()
        emails = s.execute(select(EmailDelivery.key, EmailDelivery.id, EmailDelivery.body)).all()
        jobs = s.execute(select(OutboxJob.key, OutboxJob.task, OutboxJob.args)).all()
        entries = list(s.scalars(select(RegisterEntry.id).order_by(RegisterEntry.added_on)))
    reviews = [[m["entry_id"] for m in made if m["kind"] == "review_due"] for made in ticks]
    assert [len(made) for made in ticks] == [10, 10, 6, 0]  # 25 reviews + the whole-register review (first)
    assert ticks[0][0] == {"kind": "register_review_due", "entry_id": None}
    assert [e for tick in reviews for e in tick] == entries  # the most overdue (oldest cycle start) first, none twice
    assert sorted(e for e, k in reminded if k.startswith("review-")) == sorted(entries)
    assert len(emails) == len({k for k, *_ in emails}) == 2 * (25 + 1)  # + the whole-register review
    for key, _, body in emails:  # each entry's email links to it; the register review's to the register
        entry = re.match(r"register-review-(\d+)-", key)
        assert (f"/register/entries/{entry[1]}\n" if entry else "/register\n") in body
    by_key = {k: i for k, i, _ in emails}
    assert sorted((k, t, a["delivery_id"]) for k, t, a in jobs) == sorted((k, outbox.path_of(send_email), i) for k, i in by_key.items())
    inserts = [q for q in sent if q.lstrip().upper().startswith("INSERT")]
    assert len(inserts) <= 3 * (3 + 3 + 2 + 1)  # three per batch of at most 4, not three per reminder


def test_r6_the_same_due_review_in_one_batch_twice_is_one_reminder_and_one_email(app):
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    due = reminders.Due("review-7-2027-03-01", "review_due", 7, datetime(2027, 3, 1, tzinfo=UTC))
    with app.app_context():
        s = db_session()
        made = reminders.make(s, [due, due], now, org_settings.OrgSettings(recipient_review_panel="panel@example.org"))
        again = reminders.make(s, [due], now, org_settings.OrgSettings(recipient_review_panel="panel@example.org"))
        emails = s.scalars(select(EmailDelivery.key)).all()
        new_jobs = outbox.recorded_ids(s)
    assert made == [due] and again == []
    assert emails == ["register-review-7-2027-03-01-to-panel@example.org"] and len(new_jobs) == 1


def test_r6_expiry_ends_entries_past_their_date_in_bounded_batches_each_logged_once(app):
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    with app.app_context():
        s = db_session()
        _register(s, [(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=i), None) for i in range(5)])
        entries = list(s.scalars(select(RegisterEntry).order_by(RegisterEntry.id)))
        for i, entry in enumerate(entries):  # three past their date, two not yet
            entry.expires_at = now - timedelta(days=3 - i) if i < 3 else now + timedelta(days=i)
        s.flush()
        ticks = [register_reviews.expire_due(s, now + timedelta(minutes=m), limit=2) for m in range(3)]
        s.expire_all()
        shown = [(e.status, e.end_reason, e.ended_at is not None) for e in entries]
        logged = s.execute(select(AuditLog.entity_id, AuditLog.action, AuditLog.detail)
                           .where(AuditLog.entity == "register_entry").order_by(AuditLog.id)).all()
    ids = [e.id for e in entries]
    assert ticks == [ids[:2], ids[2:3], []]
    assert shown == [("expired", "expiry", True)] * 3 + [("in_force", None, False)] * 2
    assert [tuple(row) for row in logged] == [(i, "end", {"status": "expired", "reason": "expiry"}) for i in ids[:3]]


def test_t5_m1_a_backlog_of_overdue_callbacks_and_retries_is_told_in_bounded_batches_each_once(app, monkeypatch):
    """Issue 13 item 5: after downtime, 5 overdue tasks and 3 retries due: each tick handles at most
    PER_TICK of each, the earliest due first, and every supervisor and manager is emailed once per task."""
    monkeypatch.setattr(deadlines, "PER_TICK", 2)
    now = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    settings = org_settings.OrgSettings(staff_email_format="{username}@example.org")
    with app.app_context():
        s = db_session()
        team = Team(name="Bench North", site="York")
        s.add(team)
        s.flush()
        people = [User(username=name, role=role, team_id=team.id, active=True)
                  for name, role in (("sup1", Role.SUPERVISOR), ("sup2", Role.SUPERVISOR), ("mgr", Role.LINE_MANAGER))]
        s.add_all(people)
        s.flush()
        tasks = [CallbackTask(case_reference=f"CASE-{i}", team_id=team.id, manager_id=people[2].id, status="open",
                              need_arose_at=now - timedelta(days=3), due_at=now - timedelta(hours=10 - i), attempts=1,
                              retry_at=now - timedelta(minutes=i) if i < 3 else None) for i in range(5)]
        s.add_all(tasks)
        s.flush()
        ticks = [(deadlines.flag_overdue(s, now + timedelta(minutes=m), settings),
                  deadlines.retries_due(s, now + timedelta(minutes=m), settings)) for m in range(4)]
        mails = s.execute(select(EmailDelivery.key, EmailDelivery.task_id, EmailDelivery.to_address)
                          .order_by(EmailDelivery.id)).all()
    ids = [t.id for t in tasks]
    assert [overdue for overdue, _ in ticks] == [ids[:2], ids[2:4], ids[4:], []]
    assert [retries for _, retries in ticks] == [ids[:2], ids[2:3], [], []]  # retries by due time too
    overdue = [(k, t, to) for k, t, to in mails if "-overdue-" in k]
    assert overdue == [(f"callback-{i}-overdue-to-{who}@example.org", i, f"{who}@example.org")
                       for i in ids for who in ("sup1", "sup2")]
    assert sorted(k for k, *_ in mails if "-retry-" in k) == sorted(f"callback-{i}-retry-1-to-mgr@example.org"
                                                                    for i in ids[:3])
