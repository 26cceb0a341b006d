"""Demo payments for ``seed-demo``: a few confirmed requests from the demo customer waiting
in the approval queue: to another customer, to an external IBAN, and one at the step-up
threshold (funded, so that approving it executes)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from vaulta.models import Account, Customer, User
from vaulta.models.account import ACCOUNT_ACTIVE
from vaulta.money import format_plain
from vaulta.services import accounts, ledger, payments, users
from vaulta.services.db import session

# The customer the demo pays into (and whose EUR account the browser test watches).
BENEFICIARY_EMAIL = "ada@vaulta.test"


def _eur_account(customer_id: int) -> Account | None:
    return session().scalar(
        sa.select(Account)
        .where(
            Account.customer_id == customer_id,
            Account.currency == "EUR",
            Account.status == ACCOUNT_ACTIVE,
        )
        .order_by(Account.id)
    )


def beneficiary_account(admin: User) -> Account:
    """Ada's EUR account, opened for the demo if she has none."""
    customer = session().scalar(sa.select(Customer).where(Customer.email == BENEFICIARY_EMAIL))
    assert customer is not None, "seed_demo creates the beneficiary first"
    return _eur_account(customer.id) or accounts.open_account(customer, "EUR", actor=admin)


def _request(user: User, source: Account, amount_minor: int, reference: str, **to: str) -> None:
    payment, code = payments.create_request(
        actor=user,
        from_account=source.number,
        amount=format_plain(amount_minor, source.currency),
        reference=reference,
        **to,
    )
    assert code is not None
    payments.confirm(payment.id, actor=user, code=code)


def seed_demo_payments(*, customer_email: str, admin: User) -> None:
    """Three pending payments from ``customer_email``'s EUR account."""
    user = users.find_by_email(customer_email)
    assert user is not None
    assert user.customer_id is not None
    source = _eur_account(user.customer_id)
    assert source is not None
    threshold = current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"]
    ledger.deposit(source, threshold + 500_000, actor=admin, description="Savings moved in")
    target = beneficiary_account(admin)
    _request(user, source, 12_000, "Rent share November", to_account=target.number)
    _request(
        user, source, 8_990, "Electricity 2026-11",
        beneficiary_name="Northwind Utilities", beneficiary_iban="DE89370400440532013000",
    )  # fmt: skip
    _request(
        user, source, threshold + 250_000, "Deposit flat 3B",
        beneficiary_name="Harbour Estates Ltd", beneficiary_iban="GB82WEST12345698765432",
    )  # fmt: skip
