"""Limits (commands): an account's overdraft limit and a customer's daily outgoing limit.

Staff change them through change requests (``account.overdraft``, ``customer.daily_limit``
in vaulta/services/changes/limit_actions.py): ``check_*`` validates a change when it is
asked for and again when it is decided, ``*_in`` applies it inside the decision's write
transaction (locks the row, audits with the maker as actor).

- Overdraft limit (``accounts.overdraft_limit_minor``, minor units of the account's
  currency): only customer accounts that are not closed; never negative; never below what
  the account already owes (``ck_accounts_within_overdraft`` would refuse it), counting
  what its active holds reserve (``held_minor``: a hold placed within the limit must stay
  capturable, and the available balance never goes below zero).
- Daily outgoing limit (``customers.daily_outgoing_limit_minor``, None: no limit): one
  number applied separately in each currency, in that currency's minor units
  (vaulta/services/payments/daily_limit.py).
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, User
from vaulta.models.account import ACCOUNT_CLOSED, KIND_CUSTOMER
from vaulta.models.customer import CUSTOMER_CLOSED
from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.errors import Conflict, InvalidInput, NotFound


def clean_limit(value: object, *, field: str, optional: bool = False) -> int | None:
    """A limit in minor units: a whole number from 0 to LEDGER_MAX_AMOUNT_MINOR (or None
    when ``optional``: no limit)."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Enter the limit as a whole number of minor units.", field=field)
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if value < 0 or value > maximum:
        raise InvalidInput(f"The limit must be between 0 and {maximum} minor units.", field=field)
    return value


def check_overdraft(account: Account, limit_minor: int) -> None:
    """Conflict (or InvalidInput) saying why ``account`` may not get ``limit_minor``."""
    if account.kind != KIND_CUSTOMER:
        raise Conflict("Only customer accounts may have an overdraft limit.")
    if account.status == ACCOUNT_CLOSED:
        raise Conflict(f"Account {account.number} is closed.")
    if limit_minor == account.overdraft_limit_minor:
        raise InvalidInput("Nothing to change: the limit is the same.", field="overdraft_limit")
    if account.balance_minor < -limit_minor:
        raise Conflict(
            f"Account {account.number} owes "
            f"{format_amount(-account.balance_minor, account.currency)}: "
            "the limit cannot be lower than that."
        )
    if account.balance_minor - account.held_minor < -limit_minor:
        raise Conflict(
            f"Account {account.number} has {format_amount(account.held_minor, account.currency)} "
            "held: the limit cannot be lower than what its balance less its holds owes."
        )


def set_overdraft_in(
    s: Session,
    account_id: int,
    limit_minor: int,
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> Account:
    """Lock the account, check and set its overdraft limit, audit ``account.overdraft``."""
    account = s.get(Account, account_id, with_for_update=True, populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    check_overdraft(account, limit_minor)
    before = account.overdraft_limit_minor
    account.overdraft_limit_minor = limit_minor
    audit.record(
        s,
        actor=actor,
        action="account.overdraft",
        object_type="account",
        object_id=account.id,
        details={"number": account.number, "from": before, "to": limit_minor, **(details or {})},
    )
    return account


def check_daily_limit(customer: Customer, limit_minor: int | None) -> None:
    """Conflict (or InvalidInput) saying why ``customer`` may not get ``limit_minor``."""
    if customer.status == CUSTOMER_CLOSED:
        raise Conflict(f"Customer {customer.customer_number} is closed.")
    if limit_minor == customer.daily_outgoing_limit_minor:
        raise InvalidInput("Nothing to change: the limit is the same.", field="daily_limit")


def set_daily_limit_in(
    s: Session,
    customer_id: int,
    limit_minor: int | None,
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> Customer:
    """Lock the customer, check and set the daily outgoing limit, audit
    ``customer.daily_limit``."""
    customer = s.get(Customer, customer_id, with_for_update=True, populate_existing=True)
    if customer is None:
        raise NotFound("No such customer.")
    check_daily_limit(customer, limit_minor)
    before = customer.daily_outgoing_limit_minor
    customer.daily_outgoing_limit_minor = limit_minor
    audit.record(
        s,
        actor=actor,
        action="customer.daily_limit",
        object_type="customer",
        object_id=customer.id,
        details={
            "customer_number": customer.customer_number,
            "from": before,
            "to": limit_minor,
            **(details or {}),
        },
    )
    return customer
