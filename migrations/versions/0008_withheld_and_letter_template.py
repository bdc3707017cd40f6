"""withheld placeholders are not numbers; letter templates in jinja2 syntax (issue 9, items 5 and 13)

Item 5: calls recorded before every Twilio placeholder was known (e.g. +86282452253, UNAVAILABLE)
become withheld callers: no E.164 on the call, its warnings, termination and callback task, and no
register number (customer_phones). Item 13: a stored R5 letter template written with `{name}`
placeholders is rewritten to `{{ name }}` (call_flows.register.letters renders it sandboxed).

Revision ID: 0008
Revises: 0007
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# A copy of call_flows.phone.WITHHELD_PLACEHOLDERS as it stood when this migration was written.
PLACEHOLDERS = ["+266696687", "+86282452253", "+8656696", "+7378742833", "+2562533", "+464"]


def upgrade() -> None:
    bind = op.get_bind()
    numbers = sa.bindparam("numbers", expanding=True)
    for table in ("warnings", "terminations", "callback_tasks"):
        bind.execute(sa.text(f"UPDATE {table} SET caller = NULL WHERE caller IN :numbers").bindparams(numbers),
                     {"numbers": PLACEHOLDERS})
    bind.execute(sa.text("UPDATE calls SET caller = NULL, caller_kind = 'withheld' WHERE caller IN :numbers")
                 .bindparams(numbers), {"numbers": PLACEHOLDERS})
    bind.execute(sa.text("DELETE FROM customer_phones WHERE phone IN :numbers").bindparams(numbers),
                 {"numbers": PLACEHOLDERS})
    _migrate_letter_template(bind)


def _migrate_letter_template(bind) -> None:
    from call_flows.register.letter_template import upgrade_template

    row = bind.execute(sa.text("SELECT value FROM settings WHERE key = 'register_letter_template'")).first()
    if row is None:
        return
    text = json.loads(row.value)
    if isinstance(text, str) and text:
        bind.execute(sa.text("UPDATE settings SET value = :value WHERE key = 'register_letter_template'"),
                     {"value": json.dumps(upgrade_template(text))})


def downgrade() -> None:
    """The placeholders' E.164 forms cannot be told apart again; templates stay in jinja2 syntax."""
