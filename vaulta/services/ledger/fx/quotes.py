"""Quotes: what a customer is offered for a conversion, valid for ``FX_QUOTE_SECONDS``.

``request_quote`` prices a conversion between two of the customer's own accounts in
different currencies at the rate in force plus ``FX_SPREAD_BPS`` (vaulta/services/ledger/fx/
pricing.py) and stores it under a random public id. A quote is used at most once: the
change request that confirms it marks it used with a conditional update
(``consume``), so two confirmations of one quote cannot both pass.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, FxQuote, User, utcnow
from vaulta.models.account import ACCOUNT_ACTIVE, KIND_CUSTOMER
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.money import format_amount
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from vaulta.services.identity import permissions
from vaulta.services.ledger.fx import pricing, rates
from vaulta.services.unit_of_work import session, write_transaction

PERMISSION = "own.conversions.request"
QUOTE_PREFIX = "fxq_"
# The dedupe key of the change request confirming a quote (vaulta/services/changes/
# conversion_action.py): "ledger.conversion:quote:<id>".
PENDING_REQUEST_KEY_PREFIX = "ledger.conversion:quote:"


def new_quote_id() -> str:
    return QUOTE_PREFIX + secrets.token_urlsafe(18)


def _amount(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput("The amount must be greater than zero.", field="amount_minor")
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if value > maximum:
        raise InvalidInput("The amount is above the ledger's limit.", field="amount_minor")
    return value


def own_account(s: Session, customer_id: int, account_id: int) -> Account:
    """The customer's own account; another customer's (or the bank's) is not found."""
    account = s.get(Account, account_id, populate_existing=True)
    if account is None or account.customer_id != customer_id or account.kind != KIND_CUSTOMER:
        raise NotFound("No such account.")
    return account


def check_usable(s: Session, *accounts: Account) -> None:
    """The accounts are active and their customer too."""
    for account in accounts:
        if account.status != ACCOUNT_ACTIVE:
            raise AccountNotAvailable(f"Account {account.number} is {account.status}.")
    status = s.scalar(sa.select(Customer.status).where(Customer.id == accounts[0].customer_id))
    if status != CUSTOMER_ACTIVE:
        raise AccountNotAvailable(f"The customer is {status}.")


def check_funds(account: Account, amount_minor: int) -> None:
    """An early, friendly refusal; the posting checks again under the account's lock."""
    if account.balance_minor < amount_minor:
        raise InsufficientFunds(
            f"Insufficient funds: the balance of {account.number} is "
            f"{format_amount(account.balance_minor, account.currency)}."
        )


def customer_of(actor: User) -> int:
    """The customer an actor converts for: their own (a customer's login)."""
    permissions.require(actor, PERMISSION)
    if actor.customer_id is None:
        raise NotFound("No such account.")
    return actor.customer_id


def request_quote(
    actor: User,
    *,
    from_account_id: int,
    to_account_id: int,
    amount_minor: int,
    now: datetime | None = None,
) -> FxQuote:
    """Price converting ``amount_minor`` (minor units of the from-account's currency) from
    one of the actor's accounts into another of theirs; the stored quote.

    NotFound for an account that is not the actor's own; InvalidInput for the same account,
    the same currency, no rate in force or an amount worth nothing once converted;
    AccountNotAvailable, InsufficientFunds as a posting would say.
    """
    customer_id = customer_of(actor)
    amount = _amount(amount_minor)
    now = now or utcnow()
    s = session()
    source = own_account(s, customer_id, from_account_id)
    target = own_account(s, customer_id, to_account_id)
    if source.id == target.id:
        raise InvalidInput("Choose two different accounts.", field="to_account")
    if source.currency == target.currency:
        raise InvalidInput(
            "Both accounts hold the same currency: use a transfer.", field="to_account"
        )
    check_usable(s, source, target)
    check_funds(source, amount)
    found = rates.rate_in_force(s, source.currency, target.currency, now)
    spread = int(current_app.config["FX_SPREAD_BPS"])
    received = pricing.to_amount(
        amount,
        source.currency,
        target.currency,
        found.rate,
        inverted=found.inverted,
        spread_bps=spread,
    )
    if received <= 0:
        raise InvalidInput(
            f"{format_amount(amount, source.currency)} is worth less than the smallest unit "
            f"of {target.currency}: convert more.",
            field="amount_minor",
        )
    quote = FxQuote(
        id=new_quote_id(),
        customer_id=customer_id,
        from_account_id=source.id,
        to_account_id=target.id,
        from_amount_minor=amount,
        from_currency=source.currency,
        to_amount_minor=received,
        to_currency=target.currency,
        rate=pricing.display_rate(found.rate, inverted=found.inverted, spread_bps=spread),
        market_rate=found.rate,
        spread_bps=spread,
        rate_id=found.rate_id,
        inverted=found.inverted,
        created_by_id=actor.id,
        created_at=now,
        expires_at=now + timedelta(seconds=int(current_app.config["FX_QUOTE_SECONDS"])),
    )
    with write_transaction(expire_on_commit=False) as w:
        w.add(quote)
    return quote


def get_quote(actor: User, quote_id: object) -> FxQuote:
    """The actor's own quote; anyone else's, or an unknown id, is not found."""
    customer_id = customer_of(actor)
    if not isinstance(quote_id, str) or not quote_id.startswith(QUOTE_PREFIX) or len(quote_id) > 40:
        raise NotFound("No such quote.")
    quote = session().get(FxQuote, quote_id, populate_existing=True)
    if quote is None or quote.customer_id != customer_id:
        raise NotFound("No such quote.")
    return quote


def check_open(quote: FxQuote, now: datetime | None = None) -> None:
    """Conflict when the quote was used or has expired."""
    if quote.used_at is not None:
        raise Conflict("This quote was already used: ask for a new one.")
    if quote.expires_at <= (now or utcnow()):
        raise Conflict("This quote has expired: ask for a new one.")


def consume(s: Session, quote_id: str, customer_id: int, now: datetime) -> None:
    """Mark the quote used, in the caller's transaction, if it is still open: a
    conditional update, so of two confirmations racing only one passes (Conflict)."""
    used = s.execute(
        sa.update(FxQuote)
        .where(
            FxQuote.id == quote_id,
            FxQuote.customer_id == customer_id,
            FxQuote.used_at.is_(None),
            FxQuote.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise Conflict("This quote was already used or has expired: ask for a new one.")
