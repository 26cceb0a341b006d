"""Accounts (commands): opening, freezing, closing, and the per-currency system accounts.
Reading them for pages is ``account_queries``.

Staff change accounts through change requests (vaulta/services/changes/banking_actions.py):
the ``check_*`` functions validate a request when it is made and again when it is decided,
the ``*_in`` functions apply it inside the decision's write transaction. The functions that
open their own transaction (``open_account``, ``freeze_account``, …) act at once: seeding,
the command line and tests use them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, User, utcnow
from vaulta.models.account import (
    ACCOUNT_ACTIVE,
    ACCOUNT_CLOSED,
    ACCOUNT_CREDIT_BLOCKED,
    ACCOUNT_DEBIT_BLOCKED,
    ACCOUNT_FROZEN,
    KIND_CUSTOMER,
    KIND_FX_POSITION,
    KIND_SYSTEM,
)
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.money import CURRENCY_EXPONENTS, format_amount
from vaulta.services import audit, events
from vaulta.services.banking.identifiers import random_account_number
from vaulta.services.errors import AccountNotAvailable, Conflict, InvalidInput, NotFound
from vaulta.services.unit_of_work import session, write_transaction

REASON_MAX = 500
# The business event of each status change (vaulta/services/events).
STATUS_EVENTS = {
    "account.freeze": "account.frozen",
    "account.unfreeze": "account.unfrozen",
    "account.close": "account.closed",
    "account.debit_block": "account.debit_blocked",
    "account.credit_block": "account.credit_blocked",
    "account.unblock": "account.unblocked",
}


def _unused_account_number() -> str:
    s = session()
    number = random_account_number()
    while s.scalar(sa.select(Account.id).where(Account.number == number)):
        number = random_account_number()
    return number


def check_can_open(s: Session, customer_id: int, currency: str, *, lock: bool = False) -> Customer:
    """The customer an account in ``currency`` may be opened for (active), else the reason."""
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unsupported currency {currency!r}.", field="currency")
    customer = s.get(Customer, customer_id, with_for_update=lock, populate_existing=lock)
    if customer is None:
        raise NotFound("No such customer.")
    if customer.status != CUSTOMER_ACTIVE:
        raise AccountNotAvailable("Accounts can only be opened for active customers.")
    return customer


def open_in(
    s: Session,
    customer_id: int,
    currency: str,
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> Account:
    """Open the account inside the caller's write transaction (``s``): the customer is
    locked, so a concurrent close cannot slip in between; audited, ``account.opened``."""
    fresh = check_can_open(s, customer_id, currency, lock=True)
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
        details={
            "number": account.number,
            "currency": currency,
            "customer_id": fresh.id,
            **(details or {}),
        },
    )
    events.emit(s, "account.opened", events.AccountData.model_validate(account))
    return account


def open_account(customer: Customer, currency: str, *, actor: User) -> Account:
    """Open a customer account in ``currency`` with a zero balance, at once: for seeding,
    the command line and tests. Staff open accounts through a change request
    (vaulta/services/changes/banking_actions.py), which runs ``open_in`` once approved."""
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unsupported currency {currency!r}.", field="currency")
    with write_transaction() as s:
        account = open_in(s, customer.id, currency, actor=actor)
    return account


def system_account(currency: str) -> Account:
    """The bank's own account for ``currency`` (money entering and leaving), created once."""
    return _bank_account(KIND_SYSTEM, currency)


def fx_position_account(currency: str) -> Account:
    """The bank's FX position in ``currency`` (the other side of customers' conversions,
    vaulta/services/ledger/fx/), created once, on demand."""
    return _bank_account(KIND_FX_POSITION, currency)


def _bank_account(kind: str, currency: str) -> Account:
    """The bank's account of ``kind`` for ``currency`` (one each: a partial unique index),
    created in its own transaction the first time it is needed."""
    s = session()
    mine = sa.select(Account).where(Account.kind == kind, Account.currency == currency)
    account = s.scalar(mine)
    if account is not None:
        return account
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unsupported currency {currency!r}.", field="currency")
    try:
        with write_transaction() as s:
            account = s.scalar(mine)
            if account is None:
                account = Account(
                    number=_unused_account_number(),
                    kind=kind,
                    currency=currency,
                    balance_minor=0,
                )
                s.add(account)
    except sa.exc.IntegrityError:
        # Another request created it at the same moment (uq_accounts_<kind>_currency).
        account = session().scalar(mine)
        if account is None:
            raise
    return account


def _lock_account(s: Session, account_id: int) -> Account:
    account = s.get(Account, account_id, with_for_update=True, populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    return account


def clean_reason(reason: str | None) -> str | None:
    return (reason or "").strip()[:REASON_MAX] or None


# action -> (the statuses it may leave, the status it makes)
STATUS_CHANGES: dict[str, tuple[tuple[str, ...], str]] = {
    "account.freeze": ((ACCOUNT_ACTIVE,), ACCOUNT_FROZEN),
    "account.unfreeze": ((ACCOUNT_FROZEN,), ACCOUNT_ACTIVE),
    "account.close": (
        (ACCOUNT_ACTIVE, ACCOUNT_FROZEN, ACCOUNT_DEBIT_BLOCKED, ACCOUNT_CREDIT_BLOCKED),
        ACCOUNT_CLOSED,
    ),
    # Blocking one direction: no money out (debit) or no money in (credit).
    "account.debit_block": ((ACCOUNT_ACTIVE,), ACCOUNT_DEBIT_BLOCKED),
    "account.credit_block": ((ACCOUNT_ACTIVE,), ACCOUNT_CREDIT_BLOCKED),
    "account.unblock": ((ACCOUNT_DEBIT_BLOCKED, ACCOUNT_CREDIT_BLOCKED), ACCOUNT_ACTIVE),
}


def check_status_change(account: Account, action: str) -> str:
    """The status ``action`` would give ``account``, or Conflict saying why it may not."""
    allowed, to = STATUS_CHANGES[action]
    if account.is_system:
        raise Conflict("The bank's system accounts cannot be frozen, blocked or closed.")
    if account.status not in allowed:
        raise Conflict(f"Account {account.number} is {account.status}.")
    if action == "account.close" and account.balance_minor != 0:
        raise Conflict(
            f"Account {account.number} can only be closed at a zero balance; it holds "
            f"{format_amount(account.balance_minor, account.currency)}."
        )
    return to


def change_status_in(
    s: Session,
    account_id: int,
    action: str,
    *,
    actor: User | int | None,
    reason: str | None,
    details: dict[str, Any] | None = None,
) -> Account:
    """Lock the account, check its status may change, apply ``action`` and audit it, in
    the caller's write transaction."""
    account = _lock_account(s, account_id)
    to = check_status_change(account, action)
    before = account.status
    account.status = to
    if to == ACCOUNT_CLOSED:
        account.closed_at = utcnow()
    audit.record(
        s,
        actor=actor,
        action=action,
        object_type="account",
        object_id=account.id,
        details={
            "number": account.number,
            "from": before,
            "to": account.status,
            "reason": clean_reason(reason),
            **(details or {}),
        },
    )
    events.emit(s, STATUS_EVENTS[action], events.AccountData.model_validate(account))
    return account


def _change_status(account_id: int, *, actor: User, reason: str | None, action: str) -> Account:
    with write_transaction() as s:
        account = change_status_in(s, account_id, action, actor=actor, reason=reason)
    return account


def freeze_account(account_id: int, *, actor: User, reason: str | None = None) -> Account:
    """An active account stops taking part in transactions until unfrozen."""
    return _change_status(account_id, actor=actor, reason=reason, action="account.freeze")


def unfreeze_account(account_id: int, *, actor: User, reason: str | None = None) -> Account:
    return _change_status(account_id, actor=actor, reason=reason, action="account.unfreeze")


def close_account(account_id: int, *, actor: User, reason: str | None = None) -> Account:
    """Close an active or frozen account; only at a zero balance. Closing is final."""
    return _change_status(account_id, actor=actor, reason=reason, action="account.close")
