"""Accounts: opening, system accounts and what a user may see."""

from __future__ import annotations

import sqlalchemy as sa

from vaulta.models import Account, Customer, User
from vaulta.models.account import ACCOUNT_ACTIVE, KIND_CUSTOMER, KIND_SYSTEM
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.money import CURRENCY_EXPONENTS
from vaulta.services import audit
from vaulta.services.db import session, write_transaction
from vaulta.services.errors import AccountNotAvailable, InvalidInput, NotFound
from vaulta.services.numbers import random_account_number


def _unused_account_number() -> str:
    s = session()
    number = random_account_number()
    while s.scalar(sa.select(Account.id).where(Account.number == number)):
        number = random_account_number()
    return number


def open_account(customer: Customer, currency: str, *, actor: User) -> Account:
    """Open a customer account in ``currency`` with a zero balance."""
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unsupported currency {currency!r}.", field="currency")
    with write_transaction() as s:
        fresh = s.get(Customer, customer.id)
        if fresh is None:
            raise NotFound("No such customer.")
        if fresh.status != CUSTOMER_ACTIVE:
            raise AccountNotAvailable("Accounts can only be opened for active customers.")
        account = Account(
            number=_unused_account_number(),
            customer_id=fresh.id,
            kind=KIND_CUSTOMER,
            currency=currency,
            balance_minor=0,
            status=ACCOUNT_ACTIVE,
        )
        s.add(account)
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="account.open",
            object_type="account",
            object_id=account.id,
            details={"number": account.number, "currency": currency, "customer_id": fresh.id},
        )
    return account


def system_account(currency: str) -> Account:
    """The bank's own account for ``currency`` (money entering and leaving), created once."""
    s = session()
    account = s.scalar(
        sa.select(Account).where(Account.kind == KIND_SYSTEM, Account.currency == currency)
    )
    if account is not None:
        return account
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unsupported currency {currency!r}.", field="currency")
    with write_transaction() as s:
        account = s.scalar(
            sa.select(Account).where(Account.kind == KIND_SYSTEM, Account.currency == currency)
        )
        if account is None:
            account = Account(
                number=_unused_account_number(),
                kind=KIND_SYSTEM,
                currency=currency,
                balance_minor=0,
            )
            s.add(account)
    return account


def accounts_of_customer(customer_id: int) -> list[Account]:
    return list(
        session().scalars(
            sa.select(Account).where(Account.customer_id == customer_id).order_by(Account.id)
        )
    )
