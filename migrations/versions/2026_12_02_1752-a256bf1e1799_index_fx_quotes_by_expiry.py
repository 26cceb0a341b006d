"""index fx quotes by expiry

The hourly purge (vaulta/services/ledger/fx/quote_purge.py) deletes quotes expired for
FX_QUOTE_RETENTION_HOURS that nothing references: ``ix_fx_quotes_expires_at`` lets it read
only the quotes past the cutoff instead of the whole table (which the live conversion form
fills with a quote each time a customer pauses typing). Schema only; the downgrade drops it.

``fx_quotes`` has never been purged before this revision: where it is large, build the
index first without blocking writes (``CREATE INDEX CONCURRENTLY IF NOT EXISTS
ix_fx_quotes_expires_at ON fx_quotes (expires_at)``, see docs/deploy.md); this revision
then finds it and does nothing.

Revision ID: a256bf1e1799
Revises: 1f93857819a3
Create Date: 2026-12-02 17:52:26.960313+00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a256bf1e1799"
down_revision = "1f93857819a3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("fx_quotes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fx_quotes_expires_at", ["expires_at"], unique=False, if_not_exists=True
        )


def downgrade():
    with op.batch_alter_table("fx_quotes", schema=None) as batch_op:
        batch_op.drop_index("ix_fx_quotes_expires_at", if_exists=True)
