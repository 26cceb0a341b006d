"""Accounts (commands): opening, freezing, closing, and the per-currency system accounts.
Reading them for pages is ``account_queries``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, User, utcnow
from vaulta.models.account import (
    ACCOUNT_ACTIVE,
    ACCOUNT_CLOSED,
    ACCOUNT_FROZEN,
    KIND_CUSTOMER,
    KIND_SYSTEM,
)
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.money import CURRENCY_EXPONENTS, format_amount
from vaulta.services import audit
from vaulta.services.banking.identifiers import random_account_number
from vaulta.services.errors import AccountNotAvailable, Conflict, InvalidInput, NotFound
from vaulta.services.unit_of_work import session, write_transaction

REASON_MAX = 500


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
        # Locked: a concurrent close of the customer cannot slip in between.
        fresh = s.get(Customer, customer.id, with_for_update=True)
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
    try:
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
    except sa.exc.IntegrityError:
        # Another request created it at the same moment (uq_accounts_system_currency).
        account = session().scalar(
            sa.select(Account).where(Account.kind == KIND_SYSTEM, Account.currency == currency)
        )
        if account is None:
            raise
    return account


def _lock_account(s: Session, account_id: int) -> Account:
    account = s.get(Account, account_id, with_for_update=True, populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    return account


def _clean_reason(reason: str | None) -> str | None:
    return (reason or "").strip()[:REASON_MAX] or None


def _change_status(
    account_id: int, *, actor: User, reason: str | None, action: str, allowed: tuple[str, ...]
) -> Account:
    """Lock the account, check its status may change, apply ``action`` and audit it."""
    with write_transaction() as s:
        account = _lock_account(s, account_id)
        if account.is_system:
            raise Conflict("The bank's system accounts cannot be frozen or closed.")
        if account.status not in allowed:
            raise Conflict(f"Account {account.number} is {account.status}.")
        before = account.status
        if action == "account.close":
            if account.balance_minor != 0:
                raise Conflict(
                    f"Account {account.number} can only be closed at a zero balance; it holds "
                    f"{format_amount(account.balance_minor, account.currency)}."
                )
            account.status = ACCOUNT_CLOSED
            account.closed_at = utcnow()
        else:
            account.status = ACCOUNT_FROZEN if action == "account.freeze" else ACCOUNT_ACTIVE
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
                "reason": _clean_reason(reason),
            },
        )
    return account


def freeze_account(account_id: int, *, actor: User, reason: str | None = None) -> Account:
    """An active account stops taking part in transactions until unfrozen."""
    return _change_status(
        account_id, actor=actor, reason=reason, action="account.freeze", allowed=(ACCOUNT_ACTIVE,)
    )


def unfreeze_account(account_id: int, *, actor: User, reason: str | None = None) -> Account:
    return _change_status(
        account_id, actor=actor, reason=reason, action="account.unfreeze", allowed=(ACCOUNT_FROZEN,)
    )


def close_account(account_id: int, *, actor: User, reason: str | None = None) -> Account:
    """Close an active or frozen account; only at a zero balance. Closing is final."""
    return _change_status(
        account_id,
        actor=actor,
        reason=reason,
        action="account.close",
        allowed=(ACCOUNT_ACTIVE, ACCOUNT_FROZEN),
    )
