"""What happened to each line of an approved payment file (a ``payments.batch`` change
request): executed with its payment and transaction, or failed with the reason.

A row is written once per (request, line) when the request executes
(``uq_payment_batch_lines_request_id_line_no``): a retry or a second execution cannot pay a
line twice. The lines themselves (beneficiary, amount …) are stored with the change request
(``change["params"]["lines"]``); see vaulta/services/payments/batch_actions.py.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base, CreatedAtMixin, in_list

LINE_EXECUTED = "executed"
LINE_FAILED = "failed"
LINE_STATUSES = (LINE_EXECUTED, LINE_FAILED)


class PaymentBatchLine(CreatedAtMixin, Base):
    __tablename__ = "payment_batch_lines"
    __table_args__ = (
        sa.UniqueConstraint(
            "request_id", "line_no", name="uq_payment_batch_lines_request_id_line_no"
        ),
        sa.CheckConstraint(in_list("status", LINE_STATUSES), name="status"),
        sa.CheckConstraint("line_no >= 1", name="line_no_positive"),
        sa.CheckConstraint(
            "(status = 'executed' AND payment_id IS NOT NULL AND failure_reason IS NULL)"
            " OR (status = 'failed' AND payment_id IS NULL AND failure_reason IS NOT NULL)",
            name="outcome",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("change_requests.id", ondelete="RESTRICT")
    )
    line_no: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[str] = mapped_column(sa.String(16))
    payment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payments.id", ondelete="RESTRICT"), unique=True
    )
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
