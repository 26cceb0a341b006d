"""count customers and customer accounts per statement on PostgreSQL

``e5b7c1d9a2f4``'s row triggers upsert one of 16 counter rows for every inserted customer
or customer account. Inside one transaction each upsert leaves a new version of the same
row that nobody can prune yet, so the next upsert walks a longer chain: a transaction that
inserts many rows costs time quadratic in their number (the demo seed's ``COPY`` of
100,000 customers and their accounts took 105 s instead of 4). PostgreSQL's statement
triggers with transition tables count a whole statement's rows at once: one grouped
upsert per statement (at most 16 rows), whatever the number of rows.

PostgreSQL only: the four triggers keep their names and events but become ``FOR EACH
STATEMENT`` with ``REFERENCING NEW TABLE`` / ``OLD TABLE AS changed_rows``, through two
functions, ``vaulta_count_customers()`` and ``vaulta_count_customer_accounts()`` (the
latter counts only accounts of kind ``customer``); ``vaulta_count_row()`` is dropped. The
counts themselves do not change. SQLite keeps its row triggers (it updates a row in place:
no chain), so this revision does nothing there. Downgrade restores the row triggers.

Revision ID: 8075314aee27
Revises: e5b7c1d9a2f4
Create Date: 2026-12-03 08:15:00.000000+00:00

"""

from alembic import op

revision = "8075314aee27"
down_revision = "e5b7c1d9a2f4"
branch_labels = None
depends_on = None

STATEMENT_FUNCTIONS = {
    "vaulta_count_customers": """
CREATE FUNCTION vaulta_count_customers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO figure_counters (name, shard, value)
  SELECT 'customers', id % 16, CASE WHEN TG_OP = 'INSERT' THEN count(*) ELSE -count(*) END
  FROM changed_rows GROUP BY id % 16
  ON CONFLICT (name, shard) DO UPDATE SET value = figure_counters.value + EXCLUDED.value;
  RETURN NULL;
END
$$
""",
    "vaulta_count_customer_accounts": """
CREATE FUNCTION vaulta_count_customer_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO figure_counters (name, shard, value)
  SELECT 'customer_accounts', id % 16,
         CASE WHEN TG_OP = 'INSERT' THEN count(*) ELSE -count(*) END
  FROM changed_rows WHERE kind = 'customer' GROUP BY id % 16
  ON CONFLICT (name, shard) DO UPDATE SET value = figure_counters.value + EXCLUDED.value;
  RETURN NULL;
END
$$
""",
}
STATEMENT_TRIGGERS = {
    "trg_customers_count_insert": "AFTER INSERT ON customers REFERENCING NEW TABLE AS "
    "changed_rows FOR EACH STATEMENT EXECUTE FUNCTION vaulta_count_customers()",
    "trg_customers_count_delete": "AFTER DELETE ON customers REFERENCING OLD TABLE AS "
    "changed_rows FOR EACH STATEMENT EXECUTE FUNCTION vaulta_count_customers()",
    "trg_accounts_count_insert": "AFTER INSERT ON accounts REFERENCING NEW TABLE AS "
    "changed_rows FOR EACH STATEMENT EXECUTE FUNCTION vaulta_count_customer_accounts()",
    "trg_accounts_count_delete": "AFTER DELETE ON accounts REFERENCING OLD TABLE AS "
    "changed_rows FOR EACH STATEMENT EXECUTE FUNCTION vaulta_count_customer_accounts()",
}
# e5b7c1d9a2f4's, for the downgrade (copied: a revision never imports another).
ROW_FUNCTION = """
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
ROW_TRIGGERS = {
    "trg_customers_count_insert": "AFTER INSERT ON customers FOR EACH ROW "
    "EXECUTE FUNCTION vaulta_count_row('customers')",
    "trg_customers_count_delete": "AFTER DELETE ON customers FOR EACH ROW "
    "EXECUTE FUNCTION vaulta_count_row('customers')",
    "trg_accounts_count_insert": "AFTER INSERT ON accounts FOR EACH ROW "
    "WHEN (NEW.kind = 'customer') EXECUTE FUNCTION vaulta_count_row('customer_accounts')",
    "trg_accounts_count_delete": "AFTER DELETE ON accounts FOR EACH ROW "
    "WHEN (OLD.kind = 'customer') EXECUTE FUNCTION vaulta_count_row('customer_accounts')",
}


def _table(trigger: str) -> str:
    return trigger.split("_")[1]  # trg_<table>_count_<event>


def _replace_triggers(triggers: dict[str, str]) -> None:
    for name, definition in triggers.items():
        op.execute(f"DROP TRIGGER {name} ON {_table(name)}")
        op.execute(f"CREATE TRIGGER {name} {definition}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its row triggers
    for statement in STATEMENT_FUNCTIONS.values():
        op.execute(statement)
    _replace_triggers(STATEMENT_TRIGGERS)
    op.execute("DROP FUNCTION vaulta_count_row()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(ROW_FUNCTION)
    _replace_triggers(ROW_TRIGGERS)
    for name in STATEMENT_FUNCTIONS:
        op.execute(f"DROP FUNCTION {name}()")
