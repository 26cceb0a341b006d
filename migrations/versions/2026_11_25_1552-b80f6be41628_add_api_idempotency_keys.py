"""add api_idempotency_keys

The JSON API's idempotent requests (``POST /api/v1/payments`` with an ``Idempotency-Key``
header): one row per user and key with the SHA-256 of the request and the first response
(status and JSON body), replayed verbatim when the same request comes again. The unique
constraint ``uq_api_idempotency_keys_user_id_key`` makes two concurrent first requests with
one key create one payment. A new table only: nothing existing is rewritten or locked
beyond the foreign key to ``users``.

Downgrade drops the table; replays of earlier requests are then no longer recognised.

Revision ID: b80f6be41628
Revises: 9c4d9b42e4fe
Create Date: 2026-11-25 15:52:00.053595+00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b80f6be41628"
down_revision = "9c4d9b42e4fe"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "response_status BETWEEN 100 AND 599",
            name=op.f("ck_api_idempotency_keys_response_status_is_http"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_api_idempotency_keys_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency_keys")),
        sa.UniqueConstraint("user_id", "key", name="uq_api_idempotency_keys_user_id_key"),
    )


def downgrade():
    op.drop_table("api_idempotency_keys")
