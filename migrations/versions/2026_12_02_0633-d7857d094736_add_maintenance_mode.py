"""add maintenance_mode

Maintenance mode (``flask vaulta maintenance on|off``, ``flask vaulta upgrade-safely``):
while the table's one row (``id = 1``) exists, every instance answers state-changing
requests with 503 and refuses writes, so that an upgrade or a restore can run with reads
still served. A new, empty table only: nothing existing is rewritten or locked. ``BIGINT``
and ``TEXT`` columns (squawk clean); the reason's length is checked by a constraint.

Downgrade drops the table; the code of earlier revisions does not know maintenance mode.

Revision ID: d7857d094736
Revises: adecbb4f4996
Create Date: 2026-12-02 06:33:12.799106+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d7857d094736"
down_revision = "adecbb4f4996"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "maintenance_mode",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_maintenance_mode_single_row")),
        sa.CheckConstraint("length(reason) <= 200", name=op.f("ck_maintenance_mode_reason_length")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_mode")),
    )


def downgrade():
    op.drop_table("maintenance_mode")
