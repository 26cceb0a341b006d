"""Deciding one payment: four eyes, step-up codes, approval and rejection.

``approve`` executes a payment exactly once through ``payment_execution`` (one
conditional update claims it, the ledger posts it in the same transaction, or it is
marked failed with nothing posted). When the claim finds nothing to claim, the payment is
read here to say why, or to ask for a step-up code.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from vaulta import mail
from vaulta.models import Payment, User, utcnow
from vaulta.models.payment import PAYMENT_PENDING, PAYMENT_REJECTED
from vaulta.money import format_amount
from vaulta.services import audit, events
from vaulta.services.banking.accounts import system_account
from vaulta.services.errors import Conflict, Forbidden, InvalidInput
from vaulta.services.identity import otp, permissions
from vaulta.services.payments import payment_policy, payment_queries
from vaulta.services.payments.payment_execution import Decision, claim_and_execute
from vaulta.services.unit_of_work import write_transaction
from vaulta.text import display_problem

DECIDE = "requests.decide"
REASON_MAX = 500


class StepUpRequired(Forbidden):
    """The amount needs a fresh passcode from the approving admin; one was mailed."""

    code = "step_up_required"


def needs_step_up(payment: Payment) -> bool:
    """At or above the step-up threshold, or when the approval policies ask for a code
    (or for more than one approver: vaulta/services/payments/payment_policy.py)."""
    if payment.amount_minor >= current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]:
        return True
    policy = payment_policy.for_payment(payment.id)
    return policy is not None and policy.needs_step_up


def _decidable(payment_id: int, actor: User) -> Payment:
    permissions.require(actor, DECIDE, "Only approvers decide payments.")
    payment = payment_queries.get(payment_id)  # expires it first when its time has passed
    if payment.status != PAYMENT_PENDING:
        raise Conflict(
            f"Payment #{payment.id} was already decided: it is {payment.status.replace('_', ' ')}."
        )
    return payment


def check_four_eyes(payment: Payment, actor: User) -> None:
    if payment.requested_by_id == actor.id:
        raise Forbidden("Four eyes: you entered this payment, so another approver must approve it.")


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
) -> Decision:
    """Approve and execute a pending payment once; ``failed`` when it cannot be posted.

    Returns the decision (status, transaction or failure reason), not the payment: the
    caller that shows the payment reads it.

    At or above the step-up threshold, a call without ``otp_code`` mails a code to the
    admin (unless ``send_code`` is false) and raises StepUpRequired.

    The common case takes one write transaction (after reading what the approval
    policies ask of it): the statement that locks the payment also checks four eyes,
    expiry and the step-up threshold. When it finds nothing to
    lock, the payment is read to say why (or to ask for the step-up code).
    """
    permissions.require(actor, DECIDE, "Only approvers decide payments.")
    approver_id = audit.actor_id(actor)
    assert approver_id is not None
    if not (otp_code or "").strip():
        policy = payment_policy.for_payment(payment_id)
        if policy is None or not policy.needs_step_up:
            threshold = current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]
            executed = claim_and_execute(payment_id, approver_id, below=threshold)
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
    executed = claim_and_execute(payment_id, approver_id, below=None)
    if executed is None:
        raise Conflict(f"Payment #{payment_id} was already decided by someone else.")
    return executed


def reject(payment_id: int, *, actor: User, reason: str) -> Payment:
    """Refuse a pending payment with a reason the customer will see."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Give the customer a reason for the rejection.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if problem := display_problem(reason):
        raise InvalidInput(problem, field="reason")
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
        events.emit_payment(s, "payment.rejected", payment.id, reason=reason)
    return payment_queries.get(payment.id)
