"""Customers' payment requests: request, confirm with a one-time passcode, cancel, expire.

A payment is ``awaiting_confirmation`` until its requester enters the passcode mailed to
them, then ``pending_approval`` until an admin decides (vaulta/services/payments/approvals.py) or it
expires. State changes are conditional updates from the expected status, so two requests
racing on one payment cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta import mail
from vaulta.models import Account, Payment, User, utcnow
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
from vaulta.services.payments import iban, payment_queries
from vaulta.services.payments.payment_fields import (
    NAME_MAX,
    REFERENCE_MAX,
    beneficiary_account,
    clean_text,
    own_account,
    payment_amount,
)
from vaulta.services.unit_of_work import session, write_transaction


def expiry_from(now: datetime) -> datetime:
    return now + timedelta(days=current_app.config["PAYMENT_EXPIRY_DAYS"])


# --- Requesting and confirming ---


def _existing(idempotency_key: str) -> Payment | None:
    return session().scalar(sa.select(Payment).where(Payment.idempotency_key == idempotency_key))


def _same_requester(payment: Payment, actor: User) -> Payment:
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
    """Create the request and its confirmation code: (payment, code to mail).

    The same ``idempotency_key`` again returns the first payment and no new code.
    """
    if actor.customer_id is None:
        raise InvalidInput("Only customers request payments here.")
    key = (idempotency_key or "").strip()[:64]
    if key and (existing := _existing(key)) is not None:
        return _same_requester(existing, actor), None
    source = own_account(actor.customer_id, from_account)
    external = bool((beneficiary_iban or "").strip() or (beneficiary_name or "").strip())
    if external and (to_account or "").strip():
        raise InvalidInput(
            "Pay either a VAULTA account or an external beneficiary, not both.",
            field="to_account",
        )
    target: Account | None = None
    name = normalised_iban = bic = None
    if external:
        name = clean_text(
            beneficiary_name, field="beneficiary_name", label="a name", maximum=NAME_MAX
        )
        normalised_iban = iban.validate(beneficiary_iban)
        bic = iban.validate_bic(beneficiary_bic)
    elif (beneficiary_bic or "").strip():
        raise InvalidInput(
            "A BIC goes with an external beneficiary's IBAN.", field="beneficiary_bic"
        )
    else:
        target = beneficiary_account(to_account, source)
    amount_minor = payment_amount(amount, source.currency)
    reference = clean_text(reference, field="reference", label="a reference", maximum=REFERENCE_MAX)
    now = utcnow()
    try:
        with write_transaction() as s:
            payment = Payment(
                from_account_id=source.id,
                beneficiary_account_id=target.id if target else None,
                beneficiary_name=name,
                beneficiary_iban=normalised_iban,
                beneficiary_bic=bic,
                amount_minor=amount_minor,
                currency=source.currency,
                reference=reference,
                status=PAYMENT_AWAITING,
                requested_by_id=actor.id,
                expires_at=expiry_from(now),
                idempotency_key=key or None,
            )
            s.add(payment)
            s.flush()
            code = otp.issue_in(s, actor, otp.PAYMENT_CONFIRM, str(payment.id), now=now)
            audit.record(
                s,
                actor=actor,
                action="payment.request",
                object_type="payment",
                object_id=payment.id,
                details={
                    "amount_minor": amount_minor,
                    "currency": source.currency,
                    "from": source.number,
                    "to": target.number if target else normalised_iban,
                    **({"bic": bic} if bic else {}),
                },
            )
            events.emit(s, "payment.created", events.PaymentData.model_validate(payment))
    except sa.exc.IntegrityError:
        existing = _existing(key) if key else None
        if existing is None:
            raise
        return _same_requester(existing, actor), None
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
