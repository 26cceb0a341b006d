"""Deciding one payment: four eyes, levels, step-up codes, approval and rejection.

A payment in the queue is decided as its change request (``payments.payment``, see
vaulta/services/payments/payment_changes.py): ``approve`` records the next level, and the
last level executes the payment exactly once through ``payment_execution`` (the ledger
posts it in the same transaction, or it is marked failed with nothing posted). When the
lock finds nothing to decide, the payment is read here to say why (already decided, four
eyes, expired), or its change request is opened (a payment pending from before).
The checker inbox and the change-request API come here too
(vaulta/services/changes/payment_action.py).
"""

from __future__ import annotations

from flask import current_app

from vaulta import mail
from vaulta.models import ChangeRequest, Payment, User, utcnow
from vaulta.models.payment import PAYMENT_PENDING
from vaulta.money import format_amount
from vaulta.services import audit, events
from vaulta.services.banking.accounts import system_account
from vaulta.services.changes import request_state as change_state
from vaulta.services.errors import Conflict, Forbidden, InvalidInput
from vaulta.services.identity import otp, permissions
from vaulta.services.payments import payment_changes, payment_queries
from vaulta.services.payments.payment_execution import Decision
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

DECIDE = "requests.decide"
REASON_MAX = 500


class StepUpRequired(change_state.StepUpRequired):
    """This level needs a fresh passcode from the approver; one was mailed. The change
    requests' own StepUpRequired, so the inbox asks for the code as for any request."""


def needs_step_up(payment: Payment) -> bool:
    """Whether approving the payment's next level now needs a one-time code: a step-up
    level of its change request, or its last level at or above the step-up threshold."""
    if payment.status != PAYMENT_PENDING:
        return False
    request = _request_of(payment)
    if request is None:
        return payment.amount_minor >= current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]
    level = request.levels_approved + 1
    if level in (request.step_up_levels or []):
        return True
    return (
        level >= request.levels_required
        and payment.amount_minor >= current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]
    )


def _request_of(payment: Payment) -> ChangeRequest | None:
    if payment.change_request_id is None:
        return None
    return session().get(ChangeRequest, payment.change_request_id, populate_existing=True)


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
    payment_id: int,
    *,
    actor: User,
    otp_code: str | None = None,
    send_code: bool = True,
    reason: str | None = None,
) -> Decision:
    """Approve the payment's next level (its change request's); the last level executes
    it once, or marks it ``failed`` when it cannot be posted.

    Returns the decision: ``executed`` (transaction), ``failed`` (reason) or still
    ``pending_approval`` when more levels are needed (the next approver must be someone
    else). A level that needs a step-up code, called without ``otp_code``, mails a code
    to the approver (unless ``send_code`` is false) and raises StepUpRequired.

    The common case is one write transaction: the statement that locks the payment, its
    accounts and its change request also checks four eyes, expiry, whether this approver
    decided it before and whether a policy changed (vaulta/services/payments/payment_changes.py).
    """
    permissions.require(actor, DECIDE, "Only approvers decide payments.")
    reason = change_state.clean_reason(reason, required=False)
    code = (otp_code or "").strip()
    expected: int | None = None
    used = False
    if code:  # check the code against the level it is for, then decide that level
        payment = _ready(payment_id, actor)
        expected = _request_of(payment).levels_approved  # type: ignore[union-attr]
        if needs_step_up(payment):
            otp.verify(actor, otp.PAYMENT_APPROVE, str(payment.id), code)
            used = True
    for _attempt in range(3):  # after a code check, an opened request, a system account
        try:
            decision, _level = payment_changes.decide(
                payment_id, actor, step_up_used=used, expected_level=expected, reason=reason
            )
            return decision
        except payment_changes.NeedsStepUp:
            if code and not used:  # a policy changed since the request asked for a code here
                otp.verify(actor, otp.PAYMENT_APPROVE, str(payment_id), code)
                used = True
                continue
            payment = payment_queries.get(payment_id)
            if send_code:
                mail_step_up_code(actor, payment)
            raise StepUpRequired(
                f"Payment #{payment.id} needs a step-up code at this level: "
                "enter the code we mailed you."
            ) from None
        except payment_changes.NotLockable:
            payment = _ready(payment_id, actor)  # raises why, or opens its change request
            system_account(payment.currency)  # created outside the execution, if it is the first
    raise Conflict(f"Payment #{payment_id} was already decided by someone else.")


def _ready(payment_id: int, actor: User) -> Payment:
    """The pending payment with its change request (opened for one that predates them),
    or the reason it cannot be decided by ``actor``."""
    payment = _decidable(payment_id, actor)
    check_four_eyes(payment, actor)
    if payment.change_request_id is None:
        payment_changes.ensure_request(payment.id)
        payment = _decidable(payment_id, actor)
    return payment


def reject(payment_id: int, *, actor: User, reason: str) -> Payment:
    """Refuse a pending payment with a reason the customer will see."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Give the customer a reason for the rejection.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if problem := display_problem(reason):
        raise InvalidInput(problem, field="reason")
    payment = _ready(payment_id, actor)
    now = utcnow()
    with write_transaction() as s:
        payment_changes.reject_locked(s, payment.id, actor, reason, now)
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
