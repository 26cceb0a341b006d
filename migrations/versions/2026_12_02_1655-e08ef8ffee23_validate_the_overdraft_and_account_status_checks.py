"""validate the overdraft and account status checks

The previous revision (51a90ed518e2) added ``ck_accounts_within_overdraft``,
``ck_accounts_overdraft_limit_valid``, the wider ``ck_accounts_status`` and
``ck_customers_daily_outgoing_limit_not_negative`` ``NOT VALID`` on PostgreSQL. Here, in a
transaction of its own (``flask db upgrade`` runs each revision in one), ``VALIDATE
CONSTRAINT`` scans the existing rows holding only a SHARE UPDATE EXCLUSIVE lock: reads and
writes go on. Every existing row passes: the new limit column is 0 everywhere, so the
overdraft check says what ``ck_accounts_customer_not_negative`` said, and the status list
only grew. SQLite checked the rows when the previous revision re-created the tables: nothing
to do there.

Downgrade: nothing (a validated constraint needs no undoing; the previous revision's
downgrade drops them).

Revision ID: e08ef8ffee23
Revises: 51a90ed518e2
Create Date: 2026-12-02 16:55:35.540011+00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e08ef8ffee23"
down_revision = "51a90ed518e2"
branch_labels = None
depends_on = None

VALIDATED = {
    "accounts": (
        "ck_accounts_within_overdraft",
        "ck_accounts_overdraft_limit_valid",
        "ck_accounts_status",
    ),
    "customers": ("ck_customers_daily_outgoing_limit_not_negative",),
}


def upgrade():
    if op.get_context().dialect.name != "postgresql":
        return
    for table, names in VALIDATED.items():
        for name in names:
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def downgrade():
    pass
