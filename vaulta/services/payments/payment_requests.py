"""Customers' payment requests: request, confirm with a one-time passcode, cancel, expire.

A payment is ``awaiting_confirmation`` until its requester enters the passcode mailed to
them, then ``pending_approval`` until an admin decides (vaulta/services/payments/approvals.py) or it
expires. State changes are conditional updates from the expected status, so two requests
racing on one payment cannot both win.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta import mail
from vaulta.models import Payment, User, utcnow
from vaulta.models.change_request import CR_CANCELLED
from vaulta.models.payment import (
    PAYMENT_AWAITING,
    PAYMENT_CANCELLED,
    PAYMENT_OPEN_STATUSES,
    PAYMENT_PENDING,
)
from vaulta.money import format_amount
from vaulta.services import audit, events
from vaulta.services.errors import Conflict, Forbidden, InvalidInput
from vaulta.services.identity import otp
from vaulta.services.payments import payment_changes, payment_holds, payment_queries
from vaulta.services.payments.payment_creation import (
    PaymentOrder,
    add_payment,
    check_order,
    expiry_from,
)
from vaulta.services.unit_of_work import session, write_transaction

# --- Requesting and confirming ---


def by_form_token(idempotency_key: str) -> Payment | None:
    """The payment a web form's token (``idempotency_key``) already made, if any."""
    return session().scalar(sa.select(Payment).where(Payment.idempotency_key == idempotency_key))


def same_requester(payment: Payment, actor: User) -> Payment:
    """``payment`` when ``actor`` requested it; a form's token reused by another is a Conflict."""
    if payment.requested_by_id != actor.id:
        raise Conflict("This form was already used. Reload the page and try again.")
    return payment


def create_request(
    *,
    actor: User,
    from_account: str,
    amount: str,
    reference: str,
    to_account: str = "",
    beneficiary_name: str = "",
    beneficiary_iban: str = "",
    beneficiary_bic: str = "",
    idempotency_key: str = "",
) -> tuple[Payment, str | None]:
    """Create the request (the web form's fields) and its confirmation code:
    (payment, code to mail). It is checked and made by vaulta/services/payments/
    payment_creation.py, as the API's are.

    The same ``idempotency_key`` (the form's token) again returns the first payment and no
    new code.
    """
    if actor.customer_id is None:
        raise InvalidInput("Only customers request payments here.")
    key = (idempotency_key or "").strip()[:64]
    if key and (existing := by_form_token(key)) is not None:
        return same_requester(existing, actor), None
    order = PaymentOrder(
        from_account=from_account or "",
        reference=reference or "",
        amount=amount or "",
        to_account=to_account or "",
        beneficiary_name=beneficiary_name or "",
        beneficiary_iban=beneficiary_iban or "",
        beneficiary_bic=beneficiary_bic or "",
    )
    checked = check_order(actor, order)
    now = utcnow()
    try:
        with write_transaction() as s:
            payment = add_payment(
                s,
                actor,
                checked,
                now=now,
                confirmed=False,
                action="payment.request",
                idempotency_key=key or None,
            )
            code = otp.issue_in(s, actor, otp.PAYMENT_CONFIRM, str(payment.id), now=now)
    except sa.exc.IntegrityError:
        existing = by_form_token(key) if key else None
        if existing is None:
            raise
        return same_requester(existing, actor), None
    return payment, code


def mail_confirmation_code(user: User, payment: Payment, code: str) -> None:
    amount = format_amount(payment.amount_minor, payment.currency)
    mail.send(
        user.email,
        f"Your VAULTA code for payment #{payment.id}",
        f"Your code to confirm payment #{payment.id} of {amount} is {code}.\n"
        f"It is valid for {current_app.config['OTP_TTL_SECONDS'] // 60} minutes. "
        "If you did not ask for this payment, do not share the code.",
    )


def request_payment(*, actor: User, **fields: str) -> Payment:
    """Create a payment request and mail its confirmation code to the requester."""
    payment, code = create_request(actor=actor, **fields)
    if code is not None:
        mail_confirmation_code(actor, payment, code)
    return payment


def resend_code(payment_id: int, *, actor: User) -> Payment:
    """Mail a new confirmation code (the old one stops working); audited."""
    payment = payment_queries.get_for_customer(payment_id, actor)
    if payment.status != PAYMENT_AWAITING:
        raise Conflict("This payment does not need a code any more.")
    with write_transaction() as s:
        code = otp.issue_in(s, actor, otp.PAYMENT_CONFIRM, str(payment.id))
        audit.record(s, actor=actor, action="payment.code_resent", **_object(payment))
    mail_confirmation_code(actor, payment, code)
    return payment


def confirm(payment_id: int, *, actor: User, code: str) -> Payment:
    """Check the requester's code and put the payment in the approval queue."""
    payment = payment_queries.get_for_customer(payment_id, actor)
    if payment.status != PAYMENT_AWAITING:
        raise Conflict(f"This payment is already {payment.status.replace('_', ' ')}.")
    if payment.requested_by_id != actor.id:
        raise Forbidden("Only the person who requested this payment can confirm it.")
    otp.verify(actor, otp.PAYMENT_CONFIRM, str(payment.id), code)
    now = utcnow()
    with write_transaction() as s:
        _transition(
            s,
            payment.id,
            PAYMENT_AWAITING,
            status=PAYMENT_PENDING,
            confirmed_at=now,
            expires_at=expiry_from(now),
        )
        audit.record(s, actor=actor, action="payment.confirm", **_object(payment))
        payment_holds.hold_for(
            s,
            payment.id,
            payment.from_account_id,
            payment.amount_minor,
            expires_at=expiry_from(now),
            actor_id=actor.id,
        )
        payment_changes.open_request(s, payment.id, now=now)
    return payment_queries.load(payment.id)


def cancel(payment_id: int, *, actor: User) -> Payment:
    """The customer withdraws a request that nobody has decided yet."""
    payment = payment_queries.get_for_customer(payment_id, actor)
    now = utcnow()
    with write_transaction() as s:
        moved = s.execute(
            sa.update(Payment)
            .where(Payment.id == payment.id, Payment.status.in_(PAYMENT_OPEN_STATUSES))
            .values(status=PAYMENT_CANCELLED, decided_by_id=actor.id, decided_at=now)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:
            raise Conflict("This payment can no longer be cancelled: it was already decided.")
        audit.record(s, actor=actor, action="payment.cancel", **_object(payment))
        payment_holds.release(s, [payment.id], actor_id=actor.id)
        payment_changes.end_request(s, [payment.id], CR_CANCELLED, now)
        events.emit_payment(s, "payment.cancelled", payment.id)
    return payment_queries.load(payment.id)


def _transition(s: Session, payment_id: int, expected: str, **values: object) -> None:
    moved = s.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id, Payment.status == expected)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise Conflict("This payment was already decided.")


def _object(payment: Payment) -> dict[str, object]:
    return {"object_type": "payment", "object_id": payment.id}
