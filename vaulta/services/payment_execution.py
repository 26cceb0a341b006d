"""Executing payments exactly once: the claim, the posting, and what a refusal records.

A conditional ``UPDATE … WHERE status = 'pending_approval'`` (that also checks expiry,
four eyes and, unless a step-up code was checked, the threshold) claims a payment and
returns what executing it needs; its accounts are then locked and the ledger posts it in
the same transaction, or the payment is marked failed with nothing posted. Used by
``approvals.approve`` (one payment) and ``bulk_decisions`` (many).
"""

from __future__ import annotations

import os
import time
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Payment, Transaction, utcnow
from vaulta.models.account import KIND_SYSTEM
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_FAILED, PAYMENT_PENDING
from vaulta.models.transaction import TX_PAYMENT
from vaulta.services import audit, ledger
from vaulta.services.db import write_transaction
from vaulta.services.errors import (
    AccountNotAvailable,
    DomainError,
    InsufficientFunds,
    InvalidInput,
)

# Test-only (tests/scaleout): seconds to hold the execution transaction open before commit,
# from this config key or the environment variable of the same name with a VAULTA_ prefix.
# Honoured only when the app runs with TESTING (the testing config); never in production.
TEST_EXECUTION_DELAY = "TEST_EXECUTION_DELAY_SECONDS"

PAYMENTS = Payment.__table__
CLAIMED = (
    PAYMENTS.c.from_account_id,
    PAYMENTS.c.beneficiary_account_id,
    PAYMENTS.c.beneficiary_name,
    PAYMENTS.c.beneficiary_iban,
    PAYMENTS.c.amount_minor,
    PAYMENTS.c.currency,
    PAYMENTS.c.reference,
)


def claim_statement(which: sa.ColumnElement[bool]) -> sa.Update:
    """The claim of the payments ``which`` selects: one conditional update that moves an
    approvable payment to executed (pending, not expired, not entered by the approver:
    four eyes) and returns what executing it needs. Bound parameters: now, actor_id."""
    return (
        sa.update(PAYMENTS)
        .where(
            which,
            PAYMENTS.c.status == PAYMENT_PENDING,
            PAYMENTS.c.expires_at > sa.bindparam("now"),
            PAYMENTS.c.requested_by_id != sa.bindparam("actor_id"),  # four eyes
        )
        .values(
            status=PAYMENT_EXECUTED,
            admin_approved_by=sa.bindparam("actor_id"),
            approved_at=sa.bindparam("now"),
            updated_at=sa.bindparam("now"),
        )
        .returning(PAYMENTS.c.id, *CLAIMED)
    )


# Built once (bound parameters), so they compile once.
_CLAIM = claim_statement(PAYMENTS.c.id == sa.bindparam("payment_id"))
_CLAIM_BELOW = _CLAIM.where(PAYMENTS.c.amount_minor < sa.bindparam("below"))
_SYSTEM_ACCOUNT = sa.select(Account.id).where(
    Account.kind == KIND_SYSTEM, Account.currency == sa.bindparam("currency")
)


def claim_and_execute(payment_id: int, actor_id: int, *, below: int | None) -> Payment | None:
    """Claim the payment if it is still approvable by this admin, execute it, return it.

    None (nothing written) when the conditional update claims no row: decided, expired,
    entered by this admin, at or above ``below``, or an external payment whose currency
    has no system account yet. The payment is read back by the transaction's last
    statement, so the commit need not expire it (saves a query after the commit).
    """
    now = utcnow()
    params = {"payment_id": payment_id, "now": now, "actor_id": actor_id}
    if below is not None:
        params["below"] = below
    try:
        with write_transaction(expire_on_commit=False) as s:
            conn = s.connection()
            claimed = conn.execute(_CLAIM if below is None else _CLAIM_BELOW, params).first()
            if claimed is None:
                return None
            destination = claimed.beneficiary_account_id or conn.scalar(
                _SYSTEM_ACCOUNT, {"currency": claimed.currency}
            )
            if destination is None:
                raise _NoSystemAccount
            outcome = _execute(s, payment_id, claimed, destination, actor_id, now)
            _test_only_delay()
            expire_changed(s)
            # The last write also reads the payment back (UPDATE … RETURNING).
            return s.scalars(
                sa.update(Payment)
                .where(Payment.id == payment_id)
                .values(**outcome)
                .returning(Payment),
                execution_options={"populate_existing": True},
            ).one()
    except _NoSystemAccount:
        return None


def expire_changed(s: Session) -> None:
    """Expire what an execution may have changed (payments, accounts, transactions).

    The commit that follows keeps the rest loaded (``expire_on_commit=False``): the acting
    admin, customers and users did not change, and reading them again would cost a query.
    """
    for obj in list(s.identity_map.values()):
        if isinstance(obj, Payment | Account | Transaction):
            s.expire(obj)


class _NoSystemAccount(Exception):
    """An external payment's currency has no system account yet: undo the claim."""


def _test_only_delay() -> None:
    """Sleep inside the execution transaction when a test asks for it (see above)."""
    if not current_app.testing:
        return
    seconds = current_app.config.get(TEST_EXECUTION_DELAY) or os.environ.get(
        f"VAULTA_{TEST_EXECUTION_DELAY}"
    )
    if seconds:
        time.sleep(float(seconds))


def _execute(
    s: Session,
    payment_id: int,
    claimed: sa.Row[Any],
    destination: int,
    actor_id: int,
    now: datetime,
) -> dict[str, object]:
    """Post the claimed payment, or on refusal record its failure (nothing posted).

    Returns the payment's remaining changes: its transaction, or its failure.
    """
    details: dict[str, object] = {
        "amount_minor": claimed.amount_minor,
        "currency": claimed.currency,
    }
    accounts = ledger.lock_accounts(s, claimed.from_account_id, destination)
    description = describe(payment_id, claimed, accounts[destination])
    try:
        tx_id = ledger.move(
            s,
            accounts[claimed.from_account_id],
            accounts[destination],
            claimed.amount_minor,
            kind=TX_PAYMENT,
            description=description,
            actor_id=actor_id,
            reference=f"PAY-{payment_id}",
            also_record=lambda tx_id: audit.Event(
                actor_id,
                "payment.approve",
                "payment",
                payment_id,
                {**details, "transaction_id": tx_id},
            ),
        )
    except (InsufficientFunds, AccountNotAvailable, InvalidInput) as err:
        details["reason"] = err.message
        audit.record(
            s,
            actor=actor_id,
            action="payment.fail",
            object_type="payment",
            object_id=payment_id,
            details=details,
        )
        return failure(err, actor_id, now)
    return {"transaction_id": tx_id}


def describe(payment_id: int, claimed: sa.Row[Any], destination: ledger.LockedAccount) -> str:
    """The description of a payment's transaction."""
    if claimed.beneficiary_account_id is not None:
        to = destination.number
    else:
        to = f"{claimed.beneficiary_name} {claimed.beneficiary_iban}"
    return f"Payment #{payment_id} to {to}: {claimed.reference}"[: ledger.DESCRIPTION_MAX]


def failure(err: DomainError, actor_id: int, now: datetime) -> dict[str, object]:
    """A payment's changes when the ledger refused it."""
    return {
        "status": PAYMENT_FAILED,
        "failure_reason": err.message,
        "decided_by_id": actor_id,
        "decided_at": now,
    }
