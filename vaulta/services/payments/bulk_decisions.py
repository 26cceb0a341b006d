"""Deciding many payments at once: the approval queue's bulk approve and reject.

Each payment is decided on its own terms (four eyes, expiry, step-up code, funds) and gets
its own result; one whose approval policy allows no bulk approval (or asks for a code) is
left for approval on its own (vaulta/services/payments/payment_policy.py). Approvals that
need nothing but the ledger are executed together, in one transaction: one conditional
update claims them all, their accounts are locked once in ascending id order, and the
ledger posts them in order with one statement per kind of write (``ledger.move_many``),
each checked against the balances the ones before it left. A refused payment is marked
failed, exactly as on its own. Whatever the batch did not claim (decided meanwhile, four
eyes, step-up, expired …) is then tried one by one, which also gives it the right message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Payment, User, utcnow
from vaulta.models.account import KIND_SYSTEM
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_FAILED
from vaulta.models.transaction import TX_PAYMENT
from vaulta.services import audit, events, ledger
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.identity import permissions
from vaulta.services.payments import payment_policy
from vaulta.services.payments.approvals import DECIDE, StepUpRequired, approve, reject
from vaulta.services.payments.payment_execution import (
    PAYMENTS,
    Decision,
    claim_statement,
    describe,
    expire_changed,
    failure,
)
from vaulta.services.unit_of_work import write_transaction
from vaulta.text import display_problem

ON_ITS_OWN = "Needs an approval code: approve it on its own."


def _not_in_bulk(payment_ids: list[int]) -> set[int]:
    """The payments the approval policies want approved one at a time, with a code."""
    found = payment_policy.for_payments(payment_ids)
    return {pid for pid, policy in found.items() if not policy.bulk_allowed}


@dataclass(frozen=True)
class RowResult:
    payment_id: int
    ok: bool
    message: str


def decide_many(
    payment_ids: list[int], *, actor: User, action: str, reason: str = ""
) -> list[RowResult]:
    """Approve or reject each payment on its own; one result per row, in the given order."""
    if action not in ("approve", "reject"):
        raise InvalidInput("Choose approve or reject.", field="action")
    if action == "reject" and not " ".join((reason or "").split()):
        raise InvalidInput("Give the customer a reason for the rejection.", field="reason")
    if action == "reject" and (problem := display_problem(reason)):
        raise InvalidInput(problem, field="reason")
    ids = list(dict.fromkeys(payment_ids))
    single = _not_in_bulk(ids) if action == "approve" else set()
    batch = {}
    if action == "approve":
        batch = execute_batch([i for i in ids if i not in single], actor=actor)
    results = []
    for pid in ids:
        done = batch.get(pid)
        if done is not None:
            results.append(_result(done))
            continue
        if pid in single:
            results.append(RowResult(pid, False, ON_ITS_OWN))
            continue
        try:
            if action == "approve":
                done = approve(pid, actor=actor, send_code=False)
            else:
                done = reject(pid, actor=actor, reason=reason)
        except StepUpRequired:
            results.append(RowResult(pid, False, ON_ITS_OWN))
        except DomainError as err:
            results.append(RowResult(pid, False, err.message))
        else:
            results.append(_result(done))
    return results


def _result(done: Payment | Decision) -> RowResult:
    message = done.status.replace("_", " ")
    if done.failure_reason:
        message += f": {done.failure_reason}"
    return RowResult(done.id, done.status != PAYMENT_FAILED, message)


# The batch claim: the single claim for many ids at once, below the step-up threshold.
# Payment rows are locked in index (id) order.
_CLAIM_MANY = claim_statement(PAYMENTS.c.id.in_(sa.bindparam("payment_ids", expanding=True))).where(
    PAYMENTS.c.amount_minor < sa.bindparam("below")
)
_SYSTEM_ACCOUNTS = sa.select(Account.currency, Account.id).where(
    Account.kind == KIND_SYSTEM, Account.currency.in_(sa.bindparam("currencies", expanding=True))
)
_SET_TRANSACTION = (
    sa.update(PAYMENTS)
    .where(PAYMENTS.c.id == sa.bindparam("payment_id"))
    .values(transaction_id=sa.bindparam("transaction_id"))
)
_SET_FAILED = (
    sa.update(PAYMENTS)
    .where(PAYMENTS.c.id == sa.bindparam("payment_id"))
    .values(
        status=sa.bindparam("status"),
        failure_reason=sa.bindparam("failure_reason"),
        decided_by_id=sa.bindparam("decided_by_id"),
        decided_at=sa.bindparam("decided_at"),
    )
)


class _MissingSystemAccount(Exception):
    """An external payment's currency has no system account yet: undo the batch."""


def execute_batch(payment_ids: list[int], *, actor: User) -> dict[int, Payment]:
    """Execute, in one transaction, every payment of ``payment_ids`` that needs only the
    ledger (pending, not expired, not entered by ``actor``, below the step-up threshold).

    Returns the payments it decided (executed, or failed when the ledger refused them);
    the others are untouched.
    """
    permissions.require(actor, DECIDE, "Only approvers decide payments.")
    actor_id = audit.actor_id(actor)
    if not payment_ids or actor_id is None:
        return {}
    now = utcnow()
    params = {
        "payment_ids": sorted(payment_ids),
        "now": now,
        "actor_id": actor_id,
        "below": current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"],
    }
    try:
        with write_transaction(expire_on_commit=False) as s:
            claimed = s.connection().execute(_CLAIM_MANY, params).all()
            if not claimed:
                return {}
            _post(s, sorted(claimed, key=lambda row: row.id), actor_id, now)
            expire_changed(s)
            ids = [row.id for row in claimed]
            decided = s.scalars(
                sa.select(Payment).where(Payment.id.in_(ids)),
                execution_options={"populate_existing": True},
            )
            return {payment.id: payment for payment in decided}
    except _MissingSystemAccount:
        return {}


def _post(s: Session, claimed: list[sa.Row[Any]], actor_id: int, now: datetime) -> None:
    """Post the claimed payments in id order; mark the refused ones failed."""
    conn = s.connection()
    external = sorted({row.currency for row in claimed if row.beneficiary_account_id is None})
    system = (
        dict(conn.execute(_SYSTEM_ACCOUNTS, {"currencies": external}).all()) if external else {}
    )
    if len(system) != len(external):
        raise _MissingSystemAccount
    destinations = [row.beneficiary_account_id or system[row.currency] for row in claimed]
    accounts = ledger.lock_accounts(s, *(row.from_account_id for row in claimed), *destinations)
    moves = [
        ledger.Move(
            debit_account_id=row.from_account_id,
            credit_account_id=destination,
            amount_minor=row.amount_minor,
            kind=TX_PAYMENT,
            description=describe(row.id, row, accounts[destination]),
            reference=f"PAY-{row.id}",
        )
        for row, destination in zip(claimed, destinations, strict=True)
    ]

    def approved(index: int, tx_id: int) -> audit.Event:
        row = claimed[index]
        details = {"amount_minor": row.amount_minor, "currency": row.currency}
        return audit.Event(
            actor_id, "payment.approve", "payment", row.id, details | {"transaction_id": tx_id}
        )

    outcomes = ledger.move_many(s, accounts, moves, actor_id=actor_id, also_record=approved)
    executed, failed, audits, outbox = [], [], [], []
    for row, outcome in zip(claimed, outcomes, strict=True):
        outbox.append(_payment_event(row, outcome))
        if isinstance(outcome, DomainError):
            failed.append({"payment_id": row.id} | failure(outcome, actor_id, now))
            details = {"amount_minor": row.amount_minor, "currency": row.currency}
            audits.append(
                audit.Event(
                    actor_id,
                    "payment.fail",
                    "payment",
                    row.id,
                    details | {"reason": outcome.message},
                )
            )
        else:
            executed.append({"payment_id": row.id, "transaction_id": outcome})
    if executed:
        conn.execute(_SET_TRANSACTION, executed)
    if failed:
        conn.execute(_SET_FAILED, failed)
        audit.record_all(s, audits)
    events.emit_rows(s, conn, outbox)


def _payment_event(row: sa.Row[Any], outcome: int | DomainError) -> dict[str, object]:
    """The outbox row of a batch-decided payment: executed, or failed with the reason."""
    if isinstance(outcome, DomainError):
        return events.payment_row(
            "payment.failed", row.id, row, status=PAYMENT_FAILED, reason=outcome.message
        )
    return events.payment_row(
        "payment.executed", row.id, row, status=PAYMENT_EXECUTED, transaction_id=outcome
    )
