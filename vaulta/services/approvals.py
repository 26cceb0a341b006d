"""The approval queue: four eyes on every payment, step-up codes, exactly-once execution.

``approve`` moves a payment out of ``pending_approval`` with a conditional update (row
count must be 1) and posts it to the ledger inside a savepoint of the same transaction:
either the payment is executed with its transaction, or it is failed with nothing posted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Payment, Transaction, User, utcnow
from vaulta.models.account import KIND_SYSTEM
from vaulta.models.payment import (
    PAYMENT_EXECUTED,
    PAYMENT_FAILED,
    PAYMENT_PENDING,
    PAYMENT_REJECTED,
)
from vaulta.models.transaction import TX_PAYMENT
from vaulta.money import format_amount
from vaulta.services import audit, ledger, mail, otp, payments
from vaulta.services.accounts import system_account
from vaulta.services.db import write_transaction
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    DomainError,
    Forbidden,
    InsufficientFunds,
    InvalidInput,
)

REASON_MAX = 500
# Test-only (tests/scaleout): seconds to hold the execution transaction open before commit,
# from this config key or the environment variable of the same name with a VAULTA_ prefix.
# Honoured only when the app runs with TESTING (the testing config); never in production.
TEST_EXECUTION_DELAY = "TEST_EXECUTION_DELAY_SECONDS"


class StepUpRequired(Forbidden):
    """The amount needs a fresh passcode from the approving admin; one was mailed."""

    code = "step_up_required"


def needs_step_up(payment: Payment) -> bool:
    return payment.amount_minor >= current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]


def _decidable(payment_id: int, actor: User) -> Payment:
    if not actor.is_admin:
        raise Forbidden("Only admins decide payments.")
    payment = payments.get(payment_id)  # expires it first when its time has passed
    if payment.status != PAYMENT_PENDING:
        raise Conflict(
            f"Payment #{payment.id} was already decided: it is {payment.status.replace('_', ' ')}."
        )
    return payment


def check_four_eyes(payment: Payment, actor: User) -> None:
    if payment.requested_by_id == actor.id:
        raise Forbidden("Four eyes: you entered this payment, so another admin must approve it.")


def mail_step_up_code(actor: User, payment: Payment) -> None:
    code = otp.issue(actor, otp.PAYMENT_APPROVE, str(payment.id))
    amount = format_amount(payment.amount_minor, payment.currency)
    mail.send(
        actor.email,
        f"VAULTA approval code for payment #{payment.id}",
        f"Your code to approve payment #{payment.id} of {amount} is {code}.\n"
        f"It is valid for {current_app.config['OTP_TTL_SECONDS'] // 60} minutes.",
    )


def approve(
    payment_id: int, *, actor: User, otp_code: str | None = None, send_code: bool = True
) -> Payment:
    """Approve and execute a pending payment once; ``failed`` when it cannot be posted.

    At or above the step-up threshold, a call without ``otp_code`` mails a code to the
    admin (unless ``send_code`` is false) and raises StepUpRequired.

    The common case takes one write transaction: the conditional update that claims the
    payment also checks four eyes, expiry and the step-up threshold. When it claims
    nothing, the payment is read to say why (or to ask for the step-up code).
    """
    if not actor.is_admin:
        raise Forbidden("Only admins decide payments.")
    approver_id = audit.actor_id(actor)
    assert approver_id is not None
    if not (otp_code or "").strip():
        threshold = current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]
        executed = _claim_and_execute(payment_id, approver_id, below=threshold)
        if executed is not None:
            return executed
    payment = _decidable(payment_id, actor)
    check_four_eyes(payment, actor)
    if needs_step_up(payment):
        if not (otp_code or "").strip():
            if send_code:
                mail_step_up_code(actor, payment)
            raise StepUpRequired(
                f"Payment #{payment.id} is above the step-up limit: enter the code we mailed you."
            )
        otp.verify(actor, otp.PAYMENT_APPROVE, str(payment.id), otp_code or "")
    system_account(payment.currency)  # created outside the execution, if it is the first
    executed = _claim_and_execute(payment_id, approver_id, below=None)
    if executed is None:
        raise Conflict(f"Payment #{payment_id} was already decided by someone else.")
    return executed


_PAYMENTS = Payment.__table__
_CLAIMED = (
    _PAYMENTS.c.from_account_id,
    _PAYMENTS.c.beneficiary_account_id,
    _PAYMENTS.c.beneficiary_name,
    _PAYMENTS.c.beneficiary_iban,
    _PAYMENTS.c.amount_minor,
    _PAYMENTS.c.currency,
    _PAYMENTS.c.reference,
)


# The claim: one conditional update that moves an approvable payment to executed and
# returns what executing it needs. Built once (bound parameters), so it compiles once.
_CLAIM = (
    sa.update(_PAYMENTS)
    .where(
        _PAYMENTS.c.id == sa.bindparam("payment_id"),
        _PAYMENTS.c.status == PAYMENT_PENDING,
        _PAYMENTS.c.expires_at > sa.bindparam("now"),
        _PAYMENTS.c.requested_by_id != sa.bindparam("actor_id"),  # four eyes
    )
    .values(
        status=PAYMENT_EXECUTED,
        admin_approved_by=sa.bindparam("actor_id"),
        approved_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
    .returning(*_CLAIMED)
)
_CLAIM_BELOW = _CLAIM.where(_PAYMENTS.c.amount_minor < sa.bindparam("below"))
_SYSTEM_ACCOUNT = sa.select(Account.id).where(
    Account.kind == KIND_SYSTEM, Account.currency == sa.bindparam("currency")
)


def _claim_and_execute(payment_id: int, actor_id: int, *, below: int | None) -> Payment | None:
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
            _expire_changed(s)
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


def _expire_changed(s: Session) -> None:
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
    if claimed.beneficiary_account_id is not None:
        to = accounts[destination].number
    else:
        to = f"{claimed.beneficiary_name} {claimed.beneficiary_iban}"
    description = f"Payment #{payment_id} to {to}: {claimed.reference}"
    try:
        tx_id = ledger.move(
            s,
            accounts[claimed.from_account_id],
            accounts[destination],
            claimed.amount_minor,
            kind=TX_PAYMENT,
            description=description[: ledger.DESCRIPTION_MAX],
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
        return {
            "status": PAYMENT_FAILED,
            "failure_reason": err.message,
            "decided_by_id": actor_id,
            "decided_at": now,
        }
    return {"transaction_id": tx_id}


def reject(payment_id: int, *, actor: User, reason: str) -> Payment:
    """Refuse a pending payment with a reason the customer will see."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Give the customer a reason for the rejection.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    payment = _decidable(payment_id, actor)
    now = utcnow()
    with write_transaction() as s:
        moved = s.execute(
            sa.update(Payment)
            .where(Payment.id == payment.id, Payment.status == PAYMENT_PENDING)
            .values(
                status=PAYMENT_REJECTED,
                rejection_reason=reason,
                decided_by_id=actor.id,
                decided_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict(f"Payment #{payment.id} was already decided by someone else.")
        audit.record(
            s,
            actor=actor,
            action="payment.reject",
            object_type="payment",
            object_id=payment.id,
            details={"reason": reason},
        )
    return payments.get(payment.id)


@dataclass(frozen=True)
class RowResult:
    payment_id: int
    ok: bool
    message: str
    payment: Payment | None = None


def decide_many(
    payment_ids: list[int], *, actor: User, action: str, reason: str = ""
) -> list[RowResult]:
    """Approve or reject each payment on its own; one result per row, in the given order."""
    if action not in ("approve", "reject"):
        raise InvalidInput("Choose approve or reject.", field="action")
    if action == "reject" and not " ".join((reason or "").split()):
        raise InvalidInput("Give the customer a reason for the rejection.", field="reason")
    results = []
    for pid in dict.fromkeys(payment_ids):
        try:
            if action == "approve":
                done = approve(pid, actor=actor, send_code=False)
            else:
                done = reject(pid, actor=actor, reason=reason)
        except StepUpRequired:
            results.append(RowResult(pid, False, "Needs an approval code: approve it on its own."))
        except DomainError as err:
            results.append(RowResult(pid, False, err.message))
        else:
            message = done.status.replace("_", " ")
            if done.failure_reason:
                message += f": {done.failure_reason}"
            results.append(RowResult(pid, done.status != PAYMENT_FAILED, message, done))
    return results
