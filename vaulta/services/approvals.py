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

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Payment, User, utcnow
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
    """
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
    # Plain values, copied before write_transaction() ends the read transaction (which
    # expires every loaded object: reading them inside would cost a refresh SELECT each).
    plan = _Execution(
        payment_id=payment.id,
        from_account_id=payment.from_account_id,
        destination=payment.beneficiary_account_id or system_account(payment.currency).id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        description=_description(payment),
    )
    actor_id = actor.id
    now = utcnow()
    with write_transaction() as s:
        moved = _update(
            s,
            plan.payment_id,
            Payment.status == PAYMENT_PENDING,
            Payment.expires_at > now,
            status=PAYMENT_EXECUTED,
            admin_approved_by=actor_id,
            approved_at=now,
            updated_at=now,
        )
        if moved != 1:
            raise Conflict(f"Payment #{plan.payment_id} was already decided by someone else.")
        _execute(s, plan, actor, now)
        _test_only_delay()
    # Executed or failed now, so nothing is left to expire: reload it without expire_due().
    return payments._reload(plan.payment_id)


@dataclass(frozen=True)
class _Execution:
    """What executing one payment needs, read before its write transaction."""

    payment_id: int
    from_account_id: int
    destination: int
    amount_minor: int
    currency: str
    description: str


def _test_only_delay() -> None:
    """Sleep inside the execution transaction when a test asks for it (see above)."""
    if not current_app.testing:
        return
    seconds = current_app.config.get(TEST_EXECUTION_DELAY) or os.environ.get(
        f"VAULTA_{TEST_EXECUTION_DELAY}"
    )
    if seconds:
        time.sleep(float(seconds))


def _execute(s: Session, plan: _Execution, actor: User, now: datetime) -> None:
    """Post the payment in a savepoint; on refusal mark it failed (nothing posted)."""
    details = {"amount_minor": plan.amount_minor, "currency": plan.currency}
    # Lock both accounts in this (outer) transaction, ascending ids as ledger.post does: the
    # locks outlive a rolled-back savepoint, so marking the payment failed (whose foreign
    # key checks touch the accounts) never waits on a concurrent approval holding them.
    ledger.lock_accounts(s, plan.from_account_id, plan.destination)
    try:
        with s.begin_nested():
            tx = ledger.post(
                s,
                debit_account_id=plan.from_account_id,
                credit_account_id=plan.destination,
                amount_minor=plan.amount_minor,
                kind=TX_PAYMENT,
                description=plan.description,
                actor=actor,
                reference=f"PAY-{plan.payment_id}",
            )
    except (InsufficientFunds, AccountNotAvailable, InvalidInput) as err:
        s.execute(
            sa.update(Payment)
            .where(Payment.id == plan.payment_id)
            .values(
                status=PAYMENT_FAILED,
                failure_reason=err.message,
                decided_by_id=actor.id,
                decided_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        audit.record(
            s,
            actor=actor,
            action="payment.fail",
            object_type="payment",
            object_id=plan.payment_id,
            details={**details, "reason": err.message},
        )
        return
    _update(s, plan.payment_id, transaction_id=tx.id)
    audit.record(
        s,
        actor=actor,
        action="payment.approve",
        object_type="payment",
        object_id=plan.payment_id,
        details={**details, "transaction_id": tx.id},
    )


def _update(
    s: Session, payment_id: int, *conditions: sa.ColumnElement[bool], **values: object
) -> int:
    """A conditional update of one payment; the number of rows it changed (0 or 1)."""
    result = s.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id, *conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def _description(payment: Payment) -> str:
    if payment.beneficiary_account is not None:
        to = payment.beneficiary_account.number
    else:
        to = f"{payment.beneficiary_name} {payment.beneficiary_iban}"
    return f"Payment #{payment.id} to {to}: {payment.reference}"[: ledger.DESCRIPTION_MAX]


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
