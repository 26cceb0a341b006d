"""The JSON API's shapes for standing orders (``/api/v1/standing-orders``).

As in vaulta/api/models.py: input refuses unknown fields, amounts are integer minor units
beside their currency, dates ``YYYY-MM-DD``, timestamps ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from vaulta.api.models import AccountNumber, Beneficiary, Currency, PaymentRequest, Shape, Timestamp
from vaulta.models import StandingOrder as StandingOrderRow
from vaulta.models import StandingOrderRun as RunRow
from vaulta.models.standing_order import FREQUENCIES, ORDER_STATUSES, RUN_STATUSES
from vaulta.services.standing_orders import queries
from vaulta.services.standing_orders.orders import MAX_RUNS

Frequency = Literal[FREQUENCIES]  # type: ignore[valid-type]
Day = Annotated[date, Field(strict=False, description="YYYY-MM-DD")]


class StandingOrderRequest(PaymentRequest):
    """A recurring payment: the fields of a payment, then when it runs. Monthly on day 29,
    30 or 31 pays on the month's last day in shorter months."""

    frequency: Frequency
    first_date: Annotated[Day, Field(description="YYYY-MM-DD, today or later (UTC)")]
    end_date: Annotated[Day, Field(description="Last day it may run (optional)")] | None = None
    max_runs: (
        Annotated[int, Field(ge=1, le=MAX_RUNS, description="Runs at most (optional)")] | None
    ) = None


class StandingOrderRun(Shape):
    due_date: date
    status: Literal[RUN_STATUSES]  # type: ignore[valid-type]
    payment_id: int | None
    error: str | None
    created_at: Timestamp

    @classmethod
    def of(cls, run: RunRow) -> StandingOrderRun:
        return cls(
            due_date=run.due_date,
            status=run.status,
            payment_id=run.payment_id,
            error=run.error,
            created_at=run.created_at,
        )


class StandingOrder(Shape):
    id: int
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    from_account: AccountNumber
    to_account: str | None
    beneficiary: Beneficiary | None
    amount_minor: Annotated[int, Field(ge=1, description="minor units")]
    currency: Currency
    reference: str
    frequency: Frequency
    first_date: date
    end_date: date | None
    max_runs: int | None
    runs_done: int
    next_due_date: date | None = Field(description="None once cancelled or completed")
    created_at: Timestamp
    updated_at: Timestamp
    runs: list[StandingOrderRun] = Field(description="The latest runs, newest first (up to 20)")

    @classmethod
    def of(cls, order: StandingOrderRow, *, runs: int = 20) -> StandingOrder:
        external = order.to_account_id is None
        return cls(
            id=order.id,
            status=order.status,
            from_account=queries.account_number(order.from_account_id) or "",
            to_account=queries.account_number(order.to_account_id),
            beneficiary=Beneficiary(
                name=order.beneficiary_name or "",
                iban=order.beneficiary_iban or "",
                bic=order.beneficiary_bic,
            )
            if external
            else None,
            amount_minor=order.amount_minor,
            currency=order.currency,
            reference=order.reference,
            frequency=order.frequency,
            first_date=order.first_date,
            end_date=order.end_date,
            max_runs=order.max_runs,
            runs_done=order.runs_done,
            next_due_date=order.next_due_date,
            created_at=order.created_at,
            updated_at=order.updated_at,
            runs=[StandingOrderRun.of(r) for r in queries.runs_of(order.id, limit=runs)],
        )


class StandingOrderList(Shape):
    items: list[StandingOrder]
