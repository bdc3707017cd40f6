"""Statements without a BEGIN round trip of their own (9.16: a press reaches the caller at once).

The PostgreSQL driver sends `BEGIN` as a round trip of its own before a transaction's first
statement, and on a loaded machine every round trip waits for PostgreSQL's backend to get a time
slice. Two places on a press's path need no multi-statement transaction:

- reads before a transaction's first write (the API token's user, the act a job plays with its
  call). PostgreSQL runs at READ COMMITTED (its default, and ours): each statement sees the rows
  committed when it starts, inside a transaction or not, so a read returns the same rows either way.
- a single statement that is a transaction by itself (the outbox claim, call_flows/jobs/lease.py):
  in autocommit PostgreSQL commits it (fsync) before it answers.

Only for those: a write inside the block commits at once, on its own."""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session


def applies(session: Session) -> bool:
    """PostgreSQL, a session bound to an engine (not joined to a test's outer transaction,
    tests/db_isolation.py), not in a transaction already and holding no unflushed change (which the
    block's end would otherwise commit on its own)."""
    bind = session.get_bind()
    return (isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not session.in_transaction()
            and not (session.new or session.dirty or session.deleted))


@contextmanager
def autocommitted(session: Session) -> Iterator[bool]:
    """Run the block's statements in autocommit when `applies` (yields whether they are); otherwise
    in the session's transaction as usual. On leaving, the session's (empty) transaction ends and its
    connection goes back to the pool out of autocommit (SQLAlchemy restores its isolation level), so the
    session's next statement begins a real transaction. Objects read stay loaded (expire_on_commit=False
    for the app's sessions)."""
    if not applies(session):
        yield False
        return
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    try:
        yield True
    except BaseException:
        session.rollback()
        raise
    session.commit()
