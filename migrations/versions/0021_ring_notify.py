"""ring-time flags kept fresh by change notifications (issue 13): triggers on every table the ring
statement reads flags from send `NOTIFY ring_flags` at commit (storage/ring_listener.py applies them),
so no service code has to remember to notify. PostgreSQL only (SQLite keeps the query at ring time).

Payloads: `c:<customer_id>` (register_entries, restrictions), `p:<e164>` (customer_phones, warnings,
terminations; old and new values on an UPDATE), `*` after a TRUNCATE (reload everything).

Revision ID: 0021_ring_notify
Revises: 0019_platform
"""
from alembic import op

revision = "0021_ring_notify"
down_revision = "0019_platform"
branch_labels = None
depends_on = None

TABLES = {  # table -> the columns whose update can change a ring-time flag
    "customer_phones": "customer_id, phone",
    "register_entries": "customer_id, status, marker, expires_at",
    "restrictions": "customer_id, status",
    "warnings": "caller, created_at",
    "terminations": "caller, created_at",
}

FUNCTION = """
CREATE OR REPLACE FUNCTION ring_flags_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  names text[] := ARRAY[]::text[];
  name text;
BEGIN
  IF TG_LEVEL = 'STATEMENT' THEN
    PERFORM pg_notify('ring_flags', '*');
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME IN ('register_entries', 'restrictions') THEN
    IF TG_OP <> 'INSERT' THEN names := names || ('c:' || OLD.customer_id); END IF;
    IF TG_OP <> 'DELETE' THEN names := names || ('c:' || NEW.customer_id); END IF;
  ELSIF TG_TABLE_NAME = 'customer_phones' THEN
    IF TG_OP <> 'INSERT' THEN names := names || ('p:' || OLD.phone); END IF;
    IF TG_OP <> 'DELETE' THEN names := names || ('p:' || NEW.phone); END IF;
  ELSE
    IF TG_OP <> 'INSERT' THEN names := names || ('p:' || OLD.caller); END IF;
    IF TG_OP <> 'DELETE' THEN names := names || ('p:' || NEW.caller); END IF;
  END IF;
  FOREACH name IN ARRAY names LOOP
    IF name IS NOT NULL THEN
      PERFORM pg_notify('ring_flags', name);  -- repeated names in one transaction are sent once
    END IF;
  END LOOP;
  RETURN NULL;
END $$
"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, columns in TABLES.items():
        op.execute(f"CREATE TRIGGER {table}_ring_flags AFTER INSERT OR DELETE OR UPDATE OF {columns} ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION ring_flags_notify()")
        op.execute(f"CREATE TRIGGER {table}_ring_flags_truncate AFTER TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION ring_flags_notify()")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_ring_flags ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_ring_flags_truncate ON {table}")
    op.execute("DROP FUNCTION IF EXISTS ring_flags_notify()")
