"""The ledger's requestable actions: ``ledger.deposit``, ``ledger.withdrawal``,
``ledger.reversal``. Each posts through ``operations.post`` inside the deciding write
transaction, with the idempotency key ``change-request-<id>``: exactly once.

Parameters (``params``):

- deposit / withdrawal: ``account_id`` (int), ``amount_minor`` (int > 0), ``description``
  (str), optional ``currency`` (must be the account's), ``reference`` and ``value_date``
  (``YYYY-MM-DD``: today UTC or up to ``LEDGER_BACKDATE_DAYS`` back, checked when asked and
  again when executed; without it the entry takes the day it is posted).
- reversal: ``transaction_id`` (int), ``reason`` (str).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, ChangeRequest, Customer, Transaction, User, utcnow
from vaulta.models.account import KIND_CUSTOMER, KIND_SYSTEM, refusal
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.models.transaction import TX_DEPOSIT, TX_REVERSAL, TX_WITHDRAWAL
from vaulta.money import format_amount
from vaulta.services.banking.accounts import system_account
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from vaulta.services.ledger.operations import post
from vaulta.services.ledger.postings import DESCRIPTION_MAX
from vaulta.services.ledger.value_dates import check_value_date, parse_value_date
from vaulta.text import display_problem

DEPOSIT = "ledger.deposit"
WITHDRAWAL = "ledger.withdrawal"
REVERSAL = "ledger.reversal"
REFERENCE_MAX = 140


def execution_key(request: ChangeRequest) -> str:
    """The ledger idempotency key of the request's posting: one posting per request."""
    return f"change-request-{request.id}"


def _text(params: dict[str, Any], name: str, maximum: int, *, required: bool = True) -> str:
    value = params.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"The {name} must be text.", field=name)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"Enter a {name}.", field=name)
    if len(value) > maximum:
        raise InvalidInput(f"Keep the {name} under {maximum} characters.", field=name)
    if problem := display_problem(value):
        raise InvalidInput(problem, field=name)
    return value


def _id(params: dict[str, Any], name: str) -> int:
    value = params.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(f"Give the {name.replace('_', ' ')}.", field=name)
    return value


def _amount(params: dict[str, Any]) -> int:
    value = params.get("amount_minor")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput("The amount must be greater than zero.", field="amount")
    return value


def _value_date(value: object) -> date | None:
    """The request's value date, inside the backdating window today (or ``None``)."""
    value_date = parse_value_date(value)
    if value_date is None:
        return None
    days = int(current_app.config["LEDGER_BACKDATE_DAYS"])
    return check_value_date(value_date, today=utcnow().date(), backdate_days=days)


def _check_available(s: Session, account: Account, *, sending: bool) -> None:
    """The account and its customer can take part in a movement now: money may leave it
    (``sending``) or enter it (not debit- or credit-blocked, frozen or closed)."""
    if problem := refusal(account.number, account.status, sending=sending):
        raise AccountNotAvailable(problem)
    if account.customer_id is not None:
        status = s.scalar(sa.select(Customer.status).where(Customer.id == account.customer_id))
        if status != CUSTOMER_ACTIVE:
            raise AccountNotAvailable(f"The customer of account {account.number} is {status}.")


def _customer_account(s: Session, account_id: int) -> Account:
    account = s.get(Account, account_id, populate_existing=True)
    if account is None:
        raise NotFound("No such account.")
    if account.kind != KIND_CUSTOMER:
        raise InvalidInput("Deposits and withdrawals are for customer accounts.", field="account")
    return account


def _prepare_movement(s: Session, params: dict[str, Any], action: str) -> Prepared:
    account = _customer_account(s, _id(params, "account_id"))
    amount = _amount(params)
    currency = params.get("currency") or account.currency
    if currency != account.currency:
        raise InvalidInput(
            f"Account {account.number} holds {account.currency}, not {currency}.",
            field="currency",
        )
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if amount > maximum:
        raise InvalidInput(
            f"The amount is above the limit of {format_amount(maximum, currency)}.",
            field="amount",
        )
    description = _text(params, "description", DESCRIPTION_MAX)
    reference = _text(params, "reference", REFERENCE_MAX, required=False) or None
    value_date = _value_date(params.get("value_date"))
    dated = value_date.isoformat() if value_date else None
    withdrawal = action == WITHDRAWAL
    _check_available(s, account, sending=withdrawal)
    if withdrawal and account.available_minor < amount:
        raise InsufficientFunds(
            f"Insufficient funds: the available balance of {account.number} is "
            f"{format_amount(account.available_minor, currency)}."
        )
    system_account(currency)  # created now (its own transaction), not while deciding
    shown = format_amount(amount, currency)
    after = account.balance_minor - amount if withdrawal else account.balance_minor + amount
    after_shown: dict[str, Any] = {"account": account.number, "balance_minor": after}
    if dated:
        after_shown["value_date"] = dated
    return Prepared(
        target_type="account",
        target_id=account.id,
        customer_id=account.customer_id,
        amount_minor=amount,
        currency=currency,
        account_kind=account.kind,
        before={"account": account.number, "balance_minor": account.balance_minor},
        after=after_shown,
        summary=(
            f"Withdraw {shown} from {account.number}"
            if withdrawal
            else f"Deposit {shown} into {account.number}"
        )
        + (f", value date {dated}" if dated else ""),
        dedupe_key=f"{action}:account:{account.id}:{amount}:{currency}"
        + (f":{dated}" if dated else ""),
        params={
            "account_id": account.id,
            "amount_minor": amount,
            "currency": currency,
            "description": description,
            "reference": reference,
            **({"value_date": dated} if dated else {}),
        },
    )


def _recheck_movement(s: Session, request: ChangeRequest, *, withdrawal: bool) -> None:
    params = request.change["params"]
    account = s.get(Account, params["account_id"], populate_existing=True)
    if account is None:
        raise NotFound("The account no longer exists.")
    if params.get("value_date"):
        _value_date(params["value_date"])  # days passed while it waited: still in the window?
    _check_available(s, account, sending=withdrawal)
    if withdrawal and account.available_minor < params["amount_minor"]:
        raise InsufficientFunds(
            f"Insufficient funds: the available balance of {account.number} is now "
            f"{format_amount(account.available_minor, account.currency)}."
        )


def _execute_movement(s: Session, request: ChangeRequest, *, withdrawal: bool) -> dict[str, Any]:
    params = request.change["params"]
    system = s.scalar(
        sa.select(Account.id).where(
            Account.kind == KIND_SYSTEM, Account.currency == params["currency"]
        )
    )
    if system is None:
        raise AccountNotAvailable(f"There is no system account for {params['currency']}.")
    debit, credit = (params["account_id"], system) if withdrawal else (system, params["account_id"])
    tx = post(
        s,
        debit_account_id=debit,
        credit_account_id=credit,
        amount_minor=params["amount_minor"],
        kind=TX_WITHDRAWAL if withdrawal else TX_DEPOSIT,
        description=params["description"],
        actor=request.maker,
        reference=params.get("reference"),
        idempotency_key=execution_key(request),
        value_date=_value_date(params.get("value_date")),
    )
    return {"transaction_id": tx.id}


def _prepare_reversal(s: Session, params: dict[str, Any]) -> Prepared:
    original = s.get(Transaction, _id(params, "transaction_id"))
    if original is None:
        raise NotFound("No such transaction.")
    reason = _text(params, "reason", DESCRIPTION_MAX)
    _reversible(s, original)
    accounts = {
        a.id: a
        for a in s.scalars(
            sa.select(Account).where(
                Account.id.in_([original.debit_account_id, original.credit_account_id])
            )
        )
    }
    debit, credit = accounts[original.debit_account_id], accounts[original.credit_account_id]
    customer = next((a for a in (credit, debit) if a.kind == KIND_CUSTOMER), None)
    shown = format_amount(original.amount_minor, original.currency)
    return Prepared(
        target_type="transaction",
        target_id=original.id,
        customer_id=customer.customer_id if customer else None,
        amount_minor=original.amount_minor,
        currency=original.currency,
        account_kind=customer.kind if customer else KIND_SYSTEM,
        before={"transaction": original.id, "debit": debit.number, "credit": credit.number},
        after={"reversal_debit": credit.number, "reversal_credit": debit.number},
        summary=f"Reverse transaction #{original.id} of {shown}",
        dedupe_key=f"{REVERSAL}:transaction:{original.id}",
        params={"transaction_id": original.id, "reason": reason},
    )


def _reversible(s: Session, original: Transaction) -> None:
    if original.kind == TX_REVERSAL:
        raise Conflict("A reversal cannot itself be reversed; post a new transaction.")
    already = s.scalar(sa.select(Transaction.id).where(Transaction.reverses_id == original.id))
    if already is not None:
        raise Conflict(f"Transaction #{original.id} has already been reversed (#{already}).")


def _recheck_reversal(s: Session, request: ChangeRequest) -> None:
    original = s.get(Transaction, request.change["params"]["transaction_id"])
    if original is None:
        raise NotFound("The transaction no longer exists.")
    _reversible(s, original)
    for account_id, sending in (
        (original.debit_account_id, False),
        (original.credit_account_id, True),
    ):
        account = s.get(Account, account_id, populate_existing=True)
        assert account is not None
        _check_available(s, account, sending=sending)
    back_from = s.get(Account, original.credit_account_id)
    assert back_from is not None
    if back_from.kind == KIND_CUSTOMER and back_from.available_minor < original.amount_minor:
        raise InsufficientFunds(
            f"Insufficient funds: the available balance of {back_from.number} is now "
            f"{format_amount(back_from.available_minor, back_from.currency)}."
        )


def _execute_reversal(s: Session, request: ChangeRequest, _decider: User) -> dict[str, Any]:
    params = request.change["params"]
    original = s.get(Transaction, params["transaction_id"], with_for_update=True)
    if original is None:
        raise NotFound("The transaction no longer exists.")
    _reversible(s, original)
    tx = post(
        s,
        debit_account_id=original.credit_account_id,
        credit_account_id=original.debit_account_id,
        amount_minor=original.amount_minor,
        kind=TX_REVERSAL,
        description=f"Reversal of #{original.id}: {params['reason']}"[:DESCRIPTION_MAX],
        actor=request.maker,
        reference=original.reference,
        reverses_id=original.id,
        idempotency_key=execution_key(request),
    )
    return {"transaction_id": tx.id}


register(
    ActionSpec(
        name=DEPOSIT,
        maker_permission="ledger.deposit.request",
        label="Deposit",
        is_money=True,
        prepare=lambda s, _actor, params: _prepare_movement(s, params, DEPOSIT),
        recheck=lambda s, request: _recheck_movement(s, request, withdrawal=False),
        execute=lambda s, request, _decider: _execute_movement(s, request, withdrawal=False),
    )
)
register(
    ActionSpec(
        name=WITHDRAWAL,
        maker_permission="ledger.withdrawal.request",
        label="Withdrawal",
        is_money=True,
        prepare=lambda s, _actor, params: _prepare_movement(s, params, WITHDRAWAL),
        recheck=lambda s, request: _recheck_movement(s, request, withdrawal=True),
        execute=lambda s, request, _decider: _execute_movement(s, request, withdrawal=True),
    )
)
register(
    ActionSpec(
        name=REVERSAL,
        maker_permission="ledger.reversal.request",
        label="Reversal",
        is_money=True,
        prepare=lambda s, _actor, params: _prepare_reversal(s, params),
        recheck=_recheck_reversal,
        execute=_execute_reversal,
    )
)
