"""Reading accounts (queries): a customer's accounts, any account for staff, a customer's own
account by number."""

from __future__ import annotations

import sqlalchemy as sa

from vaulta.models import Account
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session


def accounts_of_customer(customer_id: int) -> list[Account]:
    return list(
        session().scalars(
            sa.select(Account).where(Account.customer_id == customer_id).order_by(Account.id)
        )
    )


def get_account(account_id: int) -> Account:
    """Any account, for admins."""
    account = session().get(Account, account_id)
    if account is None:
        raise NotFound("No such account.")
    return account


def get_account_by_number(number: str) -> Account:
    """Any account by its number, for admins."""
    account = session().scalar(sa.select(Account).where(Account.number == number))
    if account is None:
        raise NotFound("No such account.")
    return account


def get_account_for_customer(number: str, customer_id: int) -> Account:
    """The customer's own account by number; another customer's account is simply not found."""
    account = session().scalar(
        sa.select(Account).where(Account.number == number, Account.customer_id == customer_id)
    )
    if account is None:
        raise NotFound("No such account.")
    return account
