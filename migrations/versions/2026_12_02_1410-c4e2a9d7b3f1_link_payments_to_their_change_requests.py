"""link payments to their change requests

Payments are decided as change requests (action ``payments.payment``, issue 15): a
payment that reaches the approval stage gets its change request in the same transaction,
and ``payments.change_request_id`` (``fk_payments_change_request_id_change_requests``)
points at it, so deciding a payment reads its levels with the payment's own row (no index:
the column is only followed from a payment, never searched; no unique constraint, which
would build an index on ``payments`` under lock: one request per payment is the service's
rule, and the request's pending ``dedupe_key`` names the payment).

No data is moved here: a payment already pending approval when this runs gets its change
request the first time someone decides it (vaulta/services/payments/payment_changes.py,
``ensure_request``), with the policy then in force.

Downgrade drops the column (the change requests stay).

Revision ID: c4e2a9d7b3f1
Revises: 3645e4ab337c
Create Date: 2026-12-02 14:10:00.000000+00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4e2a9d7b3f1"
down_revision = "3645e4ab337c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_request_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_payments_change_request_id_change_requests"),
            "change_requests",
            ["change_request_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payments_change_request_id_change_requests"), type_="foreignkey"
        )
        batch_op.drop_column("change_request_id")
