"""Payments made through the services, for service, web and concurrency tests."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from vaulta.extensions import db
from vaulta.models import Account, Payment, User, utcnow
from vaulta.services.payments import payment_requests

VALID_IBAN = "GB82WEST12345698765432"


def make_payment(
    user: User,
    source: Account,
    *,
    to: Account | None = None,
    amount: str = "10.00",
    confirm: bool = True,
    reference: str = "Invoice 42",
) -> Payment:
    """A payment requested by ``user``; confirmed (pending approval) unless told otherwise."""
    fields = {"to_account": to.number} if to else {
        "beneficiary_name": "Acme Ltd", "beneficiary_iban": VALID_IBAN
    }  # fmt: skip
    payment, code = payment_requests.create_request(
        actor=user, from_account=source.number, amount=amount, reference=reference, **fields
    )
    assert code is not None
    if confirm:
        payment = payment_requests.confirm(payment.id, actor=user, code=code)
    return payment


def status_of(payment_id: int) -> str:
    """The payment's status as committed now (ends the test session's read snapshot first)."""
    db.session.rollback()
    status = db.session.scalar(sa.select(Payment.status).where(Payment.id == payment_id))
    assert status is not None
    return status


def backdate_expiry(payment: Payment) -> None:
    """Move the payment's expiry a minute into the past (nothing marks it expired yet)."""
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id == payment.id)
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
