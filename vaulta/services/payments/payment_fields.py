"""The fields of a payment request, each checked on its own: the request service uses them
all, the form's live validation one at a time. Failures name their field."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from vaulta.models import Account, Customer
from vaulta.models.account import KIND_CUSTOMER, MAY_RECEIVE, refusal
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.money import AmountError, format_amount, parse_amount
from vaulta.services.errors import AccountNotAvailable, InvalidInput
from vaulta.services.unit_of_work import session
from vaulta.text import display_problem

REFERENCE_MAX = 140
NAME_MAX = 140


def own_account(customer_id: int, number: str, *, field: str = "from_account") -> Account:
    """One of the customer's active accounts, by number."""
    account = session().scalar(
        sa.select(Account).where(
            Account.number == (number or "").strip(), Account.customer_id == customer_id
        )
    )
    if account is None:
        raise InvalidInput("Choose one of your accounts.", field=field)
    if problem := refusal(account.number, account.status, sending=True):
        raise InvalidInput(problem, field=field)
    customer = session().get(Customer, customer_id)
    if customer is None or customer.status != CUSTOMER_ACTIVE:
        raise AccountNotAvailable(
            "Your customer record is not active: payments are paused. Please contact the bank."
        )
    return account


def beneficiary_account(number: str, source: Account | None) -> Account:
    """A VAULTA customer account that ``source`` may pay into."""
    number = "".join((number or "").split())
    account = session().scalar(
        sa.select(Account).where(Account.number == number, Account.kind == KIND_CUSTOMER)
    )
    if account is None or account.status not in MAY_RECEIVE:
        raise InvalidInput("There is no open VAULTA account with this number.", field="to_account")
    if source is not None and account.id == source.id:
        raise InvalidInput("Choose an account other than the one you pay from.", field="to_account")
    if source is not None and account.currency != source.currency:
        raise InvalidInput(
            f"This account holds {account.currency}; you pay in {source.currency}.",
            field="to_account",
        )
    return account


def payment_amount(text: str, currency: str) -> int:
    """The amount in minor units: positive, as many decimals as ``currency`` has, and at most
    what the ledger posts in one transaction (LEDGER_MAX_AMOUNT_MINOR), so that a request is
    never accepted only to fail at approval."""
    try:
        minor = parse_amount(text, currency)
    except AmountError as err:
        raise InvalidInput(str(err), field="amount") from None
    maximum = int(current_app.config["LEDGER_MAX_AMOUNT_MINOR"])
    if minor > maximum:
        raise InvalidInput(
            f"A payment can be at most {format_amount(maximum, currency)}.", field="amount"
        )
    return minor


def payment_amount_minor(minor: int, currency: str) -> int:
    """An amount already in minor units (the API): positive and at most
    LEDGER_MAX_AMOUNT_MINOR, like ``payment_amount``."""
    maximum = int(current_app.config["LEDGER_MAX_AMOUNT_MINOR"])
    if minor <= 0:
        raise InvalidInput("The amount must be positive.", field="amount")
    if minor > maximum:
        raise InvalidInput(
            f"A payment can be at most {format_amount(maximum, currency)}.", field="amount"
        )
    return minor


def clean_text(text: str | None, *, field: str, label: str, maximum: int) -> str:
    value = " ".join((text or "").split())
    if not value:
        raise InvalidInput(f"Enter {label}.", field=field)
    if len(value) > maximum:
        raise InvalidInput(f"Keep {label} under {maximum} characters.", field=field)
    if problem := display_problem(value):
        raise InvalidInput(problem, field=field)
    return value
