"""Expiry: `flask vaulta expire-payments` ends open payments whose time has passed."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from tests.services.payments.factories import make_payment, status_of
from vaulta.extensions import db
from vaulta.models import Account, Payment, User, utcnow


def test_expire_payments_command(app: Flask, customer_user: User, source: Account) -> None:
    due = make_payment(customer_user, source)
    unconfirmed = make_payment(customer_user, source, confirm=False)
    fresh = make_payment(customer_user, source)
    db.session.execute(
        sa.update(Payment)
        .where(Payment.id.in_([due.id, unconfirmed.id]))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["vaulta", "expire-payments"])
    assert result.exit_code == 0, result.output
    assert "Expired 2 payment(s)." in result.output
    assert [status_of(p.id) for p in (due, unconfirmed, fresh)] == [
        "expired",
        "expired",
        "pending_approval",
    ]
    again = app.test_cli_runner().invoke(args=["vaulta", "expire-payments"])
    assert "Expired 0 payment(s)." in again.output
