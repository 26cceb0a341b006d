"""Reading a payment file's batch: its change request and every line with what became of
it (waiting, executed with its payment, failed with the reason, or left out as invalid);
for a customer, the files its own logins uploaded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vaulta.models import ChangeRequest, PaymentBatchLine, User
from vaulta.services.errors import NotFound
from vaulta.services.payments.batch_actions import BATCH
from vaulta.services.unit_of_work import session


@dataclass(frozen=True)
class BatchLine:
    line_no: int
    beneficiary_name: str
    beneficiary_iban: str
    beneficiary_bic: str | None
    amount_minor: int
    currency: str
    reference: str
    end_to_end_id: str | None
    status: str  # "waiting" (not executed yet), "executed", "failed"
    payment_id: int | None
    failure_reason: str | None


@dataclass(frozen=True)
class Batch:
    request: ChangeRequest
    params: dict[str, Any]
    lines: list[BatchLine]
    invalid: list[dict[str, Any]]


CUSTOMER_LIST_LIMIT = 100


def uploads_of_customer(customer_id: int, *, limit: int = CUSTOMER_LIST_LIMIT) -> list[sa.Row]:
    """The payment files the customer's own logins submitted, newest first: each request's
    id, status, times, total, result (executed/failed counts) and parameters (file name,
    account, lines). Staff uploads for the customer are not theirs and are left out."""
    maker = sa.orm.aliased(User)
    return list(
        session().execute(
            sa.select(
                ChangeRequest.id,
                ChangeRequest.status,
                ChangeRequest.created_at,
                ChangeRequest.decided_at,
                ChangeRequest.amount_minor,
                ChangeRequest.currency,
                ChangeRequest.result,
                ChangeRequest.failure_reason,
                ChangeRequest.change["params"].label("params"),
            )
            .join(maker, maker.id == ChangeRequest.maker_id)
            .where(
                ChangeRequest.action == BATCH,
                ChangeRequest.customer_id == customer_id,
                maker.customer_id == customer_id,
            )
            .order_by(ChangeRequest.id.desc())
            .limit(limit)
        )
    )


def batch_for_customer(request_id: int, customer_id: int) -> Batch:
    """A batch the customer's own logins submitted; NotFound for anyone else's (staff
    uploads for the customer included: they are not the customer's)."""
    found = batch(request_id)
    maker = found.request.maker
    if found.request.customer_id != customer_id or maker.customer_id != customer_id:
        raise NotFound("No such payment batch.")
    return found


def batch(request_id: int) -> Batch:
    """The batch of change request ``request_id``; NotFound for any other request."""
    request = session().get(ChangeRequest, request_id)
    if request is None or request.action != BATCH:
        raise NotFound("No such payment batch.")
    outcomes = {
        row.line_no: row
        for row in session().execute(
            sa.select(
                PaymentBatchLine.line_no,
                PaymentBatchLine.status,
                PaymentBatchLine.payment_id,
                PaymentBatchLine.failure_reason,
            ).where(PaymentBatchLine.request_id == request_id)
        )
    }
    params = request.change["params"]
    lines = []
    for line in params["lines"]:
        done = outcomes.get(line["line_no"])
        lines.append(
            BatchLine(
                line_no=line["line_no"],
                beneficiary_name=line["beneficiary_name"],
                beneficiary_iban=line["beneficiary_iban"],
                beneficiary_bic=line["beneficiary_bic"],
                amount_minor=line["amount_minor"],
                currency=line["currency"],
                reference=line["reference"],
                end_to_end_id=line.get("end_to_end_id"),
                status=done.status if done else "waiting",
                payment_id=done.payment_id if done else None,
                failure_reason=done.failure_reason if done else None,
            )
        )
    return Batch(request, params, lines, list(params["invalid"]))
