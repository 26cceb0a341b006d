"""chain audit events by hash

Makes the audit log tamper-evident (vaulta/services/audit/chain.py): each event gets
``chain_hash`` = SHA-256 of the previous event's hash and its own canonical JSON, and the
one-row table ``audit_chain_head`` holds the newest event's id and hash (every writer locks
it, so the chain never forks). ``chain_hash`` stays nullable: a row written around the
app is what ``flask vaulta verify-audit`` reports.

Data migration: the existing events are chained in id order, starting from the genesis
hash (64 zeros), and the head row is written.

- PostgreSQL: in SQL (``flask db upgrade --sql`` prints it), one PL/pgSQL loop that hashes
  ``json_build_array(...)::text`` (the same text the app hashes) with ``sha256()`` and writes
  the hashes 10,000 rows per ``UPDATE … FROM unnest(...)``; ``statement_timeout`` is lifted
  for that one statement and restored after it.
- SQLite has no SHA-256 in SQL (and no offline mode): the rows are read and written back
  in id-ordered batches of 10,000, plain Core, no app code.

Run it with writes stopped (``flask vaulta upgrade-safely`` turns maintenance mode on):
an event written by the old code meanwhile would be left out of the chain. Downgrade drops
the column and the table (the hashes are lost; the events stay).

Revision ID: 0f3ce6a1fb07
Revises: 8e7ba3437353
Create Date: 2026-12-02 10:01:01.902533+00:00

"""

import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0f3ce6a1fb07"
down_revision = "8e7ba3437353"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BATCH = 10_000

audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer),
    sa.column("created_at", sa.DateTime),
    sa.column("actor_id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("object_type", sa.String),
    sa.column("object_id", sa.String),
    sa.column("details", sa.Text),  # the stored JSON text, verbatim
    sa.column("client_address", sa.String),
    sa.column("chain_hash", sa.String),
)
audit_chain_head = sa.table(
    "audit_chain_head",
    sa.column("id", sa.BigInteger),
    sa.column("last_event_id", sa.BigInteger),
    sa.column("last_hash", sa.String),
)

# The colons of the time format are escaped for text(); $chain$ quotes the PL/pgSQL body.
CHAIN_POSTGRESQL = r"""
DO $chain$
DECLARE
    previous text := repeat('0', 64);
    newest bigint;
    ids bigint[] := '{}';
    hashes text[] := '{}';
    event record;
BEGIN
    FOR event IN
        SELECT id, json_build_array(
            id,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24\:MI\:SS.US"Z"'),
            actor_id, action, object_type, object_id, details, client_address
        )::text AS canonical
        FROM audit_events ORDER BY id
    LOOP
        previous := encode(sha256(convert_to(previous || event.canonical, 'UTF8')), 'hex');
        newest := event.id;
        ids := ids || newest;
        hashes := hashes || previous;
        IF cardinality(ids) >= 10000 THEN
            UPDATE audit_events AS e SET chain_hash = batch.hash
            FROM unnest(ids, hashes) AS batch(id, hash) WHERE e.id = batch.id;
            ids := '{}';
            hashes := '{}';
        END IF;
    END LOOP;
    UPDATE audit_events AS e SET chain_hash = batch.hash
    FROM unnest(ids, hashes) AS batch(id, hash) WHERE e.id = batch.id;
    INSERT INTO audit_chain_head (id, last_event_id, last_hash) VALUES (1, newest, previous);
END
$chain$
"""


SAVE_TIMEOUT = (
    "SELECT set_config('vaulta.saved_statement_timeout', current_setting('statement_timeout'), "
    "true)"
)
RESTORE_TIMEOUT = (
    "SELECT set_config('statement_timeout', "
    "current_setting('vaulta.saved_statement_timeout'), true)"
)


def upgrade():
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    if op.get_context().dialect.name == "postgresql":
        # The fill is one statement that grows with the log (about 20 s per 200,000 events
        # on a busy machine): MIGRATION_STATEMENT_TIMEOUT is lifted for it alone, then put
        # back for whatever runs next in this transaction. audit_events is locked by the
        # ADD COLUMN above until the commit anyway; lock_timeout still applies.
        op.execute(sa.text(SAVE_TIMEOUT))
        op.execute(sa.text("SET LOCAL statement_timeout = 0"))
        op.execute(sa.text(CHAIN_POSTGRESQL))
        op.execute(sa.text(RESTORE_TIMEOUT))
    else:
        _chain_in_batches(op.get_bind())


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("chain_hash")
    op.drop_table("audit_chain_head")


def _canonical(row: sa.Row) -> str:
    """What json_build_array(...)::text prints (vaulta/services/audit/chain.py)."""
    created = row.created_at.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    items = [row.id, created, row.actor_id, row.action, row.object_type, row.object_id]
    parts = [json.dumps(item, ensure_ascii=False) for item in items]
    parts += [row.details, json.dumps(row.client_address, ensure_ascii=False)]
    return "[" + ", ".join(parts) + "]"


def _chain_in_batches(bind: sa.Connection) -> None:
    previous, newest = GENESIS, None
    columns = [c for c in audit_events.c if c.name != "chain_hash"]
    update = (
        audit_events.update()
        .where(audit_events.c.id == sa.bindparam("event_id"))
        .values(chain_hash=sa.bindparam("hash"))
    )
    while True:
        query = sa.select(*columns).order_by(audit_events.c.id).limit(BATCH)
        if newest is not None:
            query = query.where(audit_events.c.id > newest)
        rows = bind.execute(query).all()
        if not rows:
            break
        hashes = []
        for row in rows:
            text = _canonical(row)
            previous = hashlib.sha256((previous + text).encode("utf-8")).hexdigest()
            hashes.append({"event_id": row.id, "hash": previous})
        bind.execute(update, hashes)
        newest = rows[-1].id
    bind.execute(audit_chain_head.insert().values(id=1, last_event_id=newest, last_hash=previous))
