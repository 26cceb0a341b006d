"""count customers and customer accounts by trigger

The staff overview showed ``COUNT(*)`` of customers and of customer accounts on every
view: a full scan, 0.3-0.45 s at 100,000 customers (issue 18). ``figure_counters`` (name,
shard, value; ``pk_figure_counters``) keeps those counts instead, updated by triggers in
the writing transaction: each insert into ``customers`` adds 1 to the shard ``id % 16`` of
``customers``, each delete takes 1; the same for ``accounts`` rows of kind ``customer``
under ``customer_accounts``. The upsert (``INSERT … ON CONFLICT … DO UPDATE``) creates a
shard's row on first use, so a truncated table starts again from nothing. PostgreSQL: one
PL/pgSQL function ``vaulta_count_row()`` taking the figure's name, and four row triggers;
SQLite: four triggers with the same statements.

The upgrade fills the counters from the rows already there (one grouped count of each
table, once). Downgrade drops the triggers, the function and the table.

Revision ID: e5b7c1d9a2f4
Revises: a256bf1e1799
Create Date: 2026-12-02 17:00:00.000000+00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e5b7c1d9a2f4"
down_revision = "a256bf1e1799"
branch_labels = None
depends_on = None

# The shard of a row is ``id % 16`` (vaulta/models/figure_counter.py SHARDS).
PG_FUNCTION = """
CREATE FUNCTION vaulta_count_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  delta integer := CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE -1 END;
  row_id integer := CASE WHEN TG_OP = 'INSERT' THEN NEW.id ELSE OLD.id END;
BEGIN
  INSERT INTO figure_counters (name, shard, value)
  VALUES (TG_ARGV[0], row_id % 16, delta)
  ON CONFLICT (name, shard) DO UPDATE SET value = figure_counters.value + EXCLUDED.value;
  RETURN NULL;
END
$$
"""
PG_TRIGGERS = {
    "trg_customers_count_insert": "CREATE TRIGGER trg_customers_count_insert AFTER INSERT "
    "ON customers FOR EACH ROW EXECUTE FUNCTION vaulta_count_row('customers')",
    "trg_customers_count_delete": "CREATE TRIGGER trg_customers_count_delete AFTER DELETE "
    "ON customers FOR EACH ROW EXECUTE FUNCTION vaulta_count_row('customers')",
    "trg_accounts_count_insert": "CREATE TRIGGER trg_accounts_count_insert AFTER INSERT "
    "ON accounts FOR EACH ROW WHEN (NEW.kind = 'customer') "
    "EXECUTE FUNCTION vaulta_count_row('customer_accounts')",
    "trg_accounts_count_delete": "CREATE TRIGGER trg_accounts_count_delete AFTER DELETE "
    "ON accounts FOR EACH ROW WHEN (OLD.kind = 'customer') "
    "EXECUTE FUNCTION vaulta_count_row('customer_accounts')",
}
_SQLITE_UPSERT = " ON CONFLICT (name, shard) DO UPDATE SET value = value + excluded.value; END"
SQLITE_TRIGGERS = {
    "trg_customers_count_insert": "CREATE TRIGGER trg_customers_count_insert AFTER INSERT "
    "ON customers FOR EACH ROW BEGIN INSERT INTO figure_counters (name, shard, value) "
    "VALUES ('customers', NEW.id % 16, 1)" + _SQLITE_UPSERT,
    "trg_customers_count_delete": "CREATE TRIGGER trg_customers_count_delete AFTER DELETE "
    "ON customers FOR EACH ROW BEGIN INSERT INTO figure_counters (name, shard, value) "
    "VALUES ('customers', OLD.id % 16, -1)" + _SQLITE_UPSERT,
    "trg_accounts_count_insert": "CREATE TRIGGER trg_accounts_count_insert AFTER INSERT "
    "ON accounts FOR EACH ROW WHEN NEW.kind = 'customer' BEGIN "
    "INSERT INTO figure_counters (name, shard, value) "
    "VALUES ('customer_accounts', NEW.id % 16, 1)" + _SQLITE_UPSERT,
    "trg_accounts_count_delete": "CREATE TRIGGER trg_accounts_count_delete AFTER DELETE "
    "ON accounts FOR EACH ROW WHEN OLD.kind = 'customer' BEGIN "
    "INSERT INTO figure_counters (name, shard, value) "
    "VALUES ('customer_accounts', OLD.id % 16, -1)" + _SQLITE_UPSERT,
}
TABLE_OF = {name: name.split("_")[1] for name in PG_TRIGGERS}
FILL = (
    "INSERT INTO figure_counters (name, shard, value) "
    "SELECT 'customers', id % 16, COUNT(*) FROM customers GROUP BY id % 16",
    "INSERT INTO figure_counters (name, shard, value) "
    "SELECT 'customer_accounts', id % 16, COUNT(*) FROM accounts "
    "WHERE kind = 'customer' GROUP BY id % 16",
)


def upgrade() -> None:
    op.create_table(
        "figure_counters",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("shard", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "shard", name=op.f("pk_figure_counters")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute(PG_FUNCTION)
    for statement in (PG_TRIGGERS if postgres else SQLITE_TRIGGERS).values():
        op.execute(statement)
    for statement in FILL:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table in TABLE_OF.items():
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgres else f"DROP TRIGGER {name}")
    if postgres:
        op.execute("DROP FUNCTION vaulta_count_row()")
    op.drop_table("figure_counters")
