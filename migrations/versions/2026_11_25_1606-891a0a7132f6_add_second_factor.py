"""add second factor

A second factor after the password (docs/security.md, "Second factor"):

- ``users.two_factor_method``: NULL (none; admins then get mailed codes), ``'email'`` or
  ``'totp'``, with the CHECK ``ck_users_two_factor_method``.
- ``users.totp_secret``: the authenticator's shared secret (base32). It must be readable to
  check codes, so it is a secret column, not a hash; ``ck_users_totp_has_secret`` keeps
  ``'totp'`` from being set without one.
- ``users.totp_last_step``: the last accepted TOTP time step; codes of that step or earlier
  are refused (no replay).
- ``recovery_codes``: one-time codes that stand in for an authenticator code, stored only as
  an HMAC-SHA256 keyed with SECRET_KEY (unique), with ``used_at`` once used.

The new columns are nullable and all NULL, so the CHECKs validate in a quick scan of
``users``; no existing data changes. Downgrade drops the columns and the table: every user
is back to the password only, enrolled authenticators and recovery codes are lost.

Revision ID: 891a0a7132f6
Revises: b80f6be41628
Create Date: 2026-11-25 16:06:10.693816+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "891a0a7132f6"
down_revision = "b80f6be41628"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recovery_codes_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("two_factor_method", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_users_two_factor_method"),
            "two_factor_method IS NULL OR two_factor_method IN ('email', 'totp')",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_users_totp_has_secret"),
            "two_factor_method <> 'totp' OR totp_secret IS NOT NULL",
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_totp_has_secret"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_users_two_factor_method"), type_="check")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("two_factor_method")

    with op.batch_alter_table("recovery_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_codes_user_id"))

    op.drop_table("recovery_codes")
