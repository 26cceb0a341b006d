"""The double-entry ledger: the one place where balances change.

Every movement is one ``Transaction`` row that debits one account and credits another
for the same amount; both balances change in the same database transaction. Accounts are
locked in ascending id order (no deadlocks). Posted rows are never edited or deleted:
a correction is a reversal.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Transaction, User
from vaulta.models.account import ACCOUNT_ACTIVE, KIND_CUSTOMER
from vaulta.models.transaction import (
    TRANSACTION_KINDS,
    TX_DEPOSIT,
    TX_REVERSAL,
    TX_TRANSFER,
    TX_WITHDRAWAL,
)
from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.accounts import system_account
from vaulta.services.db import session, write_transaction
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)

DESCRIPTION_MAX = 200


def lock_accounts(s: Session, *account_ids: int) -> dict[int, Account]:
    """Lock the accounts (``FOR UPDATE``) in ascending id order and return them by id."""
    rows = s.scalars(
        sa.select(Account)
        .where(Account.id.in_(sorted(set(account_ids))))
        .order_by(Account.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    found = {a.id: a for a in rows}
    missing = set(account_ids) - set(found)
    if missing:
        raise NotFound("No such account.")
    return found


def post(
    s: Session,
    *,
    debit_account_id: int,
    credit_account_id: int,
    amount_minor: int,
    kind: str,
    description: str,
    actor: User,
    reference: str | None = None,
    reverses_id: int | None = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Post one transaction inside the caller's write transaction (no commit here)."""
    if kind not in TRANSACTION_KINDS:
        raise InvalidInput(f"Unknown transaction kind {kind!r}.")
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise InvalidInput("The amount must be greater than zero.", field="amount")
    if debit_account_id == credit_account_id:
        raise InvalidInput("Debit and credit accounts must differ.")
    description = (description or "").strip()
    if not description:
        raise InvalidInput("Enter a description.", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"Keep the description under {DESCRIPTION_MAX} characters.", field="description"
        )
    accounts = lock_accounts(s, debit_account_id, credit_account_id)
    if idempotency_key:
        # Looked up again under the account locks: a retry that waited behind the first
        # request returns its result instead of being judged against the new balance.
        existing = s.scalar(
            sa.select(Transaction).where(Transaction.idempotency_key == idempotency_key)
        )
        if existing is not None:
            return _same_request(
                existing,
                {
                    "debit_account_id": debit_account_id,
                    "credit_account_id": credit_account_id,
                    "amount_minor": amount_minor,
                    "kind": kind,
                },
            )
    debit, credit = accounts[debit_account_id], accounts[credit_account_id]
    if debit.currency != credit.currency:
        raise InvalidInput("Both accounts must be in the same currency.")
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if amount_minor > maximum:
        raise InvalidInput(
            f"The amount is above the limit of {format_amount(maximum, debit.currency)}.",
            field="amount",
        )
    for account in (debit, credit):
        if account.status != ACCOUNT_ACTIVE:
            raise AccountNotAvailable(f"Account {account.number} is {account.status}.")
    if debit.kind == KIND_CUSTOMER and debit.balance_minor < amount_minor:
        raise InsufficientFunds(
            f"Insufficient funds: the balance of {debit.number} is "
            f"{format_amount(debit.balance_minor, debit.currency)}."
        )
    debit.balance_minor -= amount_minor
    credit.balance_minor += amount_minor
    tx = Transaction(
        debit_account_id=debit.id,
        credit_account_id=credit.id,
        amount_minor=amount_minor,
        currency=debit.currency,
        kind=kind,
        description=description,
        reference=reference,
        reverses_id=reverses_id,
        created_by_id=actor.id,
        idempotency_key=idempotency_key,
    )
    s.add(tx)
    s.flush()
    audit.record(
        s,
        actor=actor,
        action=f"transaction.{kind}",
        object_type="transaction",
        object_id=tx.id,
        details={
            "amount_minor": amount_minor,
            "currency": tx.currency,
            "debit": debit.number,
            "credit": credit.number,
            "description": description,
            "reverses_id": reverses_id,
        },
    )
    return tx


def _existing(idempotency_key: str | None) -> Transaction | None:
    if not idempotency_key:
        return None
    return session().scalar(
        sa.select(Transaction).where(Transaction.idempotency_key == idempotency_key)
    )


def _post_once(idempotency_key: str | None, **kwargs: object) -> Transaction:
    """Post in its own write transaction; a retry with the same key returns the first result."""
    existing = _existing(idempotency_key)
    if existing is not None:
        return _same_request(existing, kwargs)
    try:
        with write_transaction() as s:
            return post(s, idempotency_key=idempotency_key, **kwargs)  # type: ignore[arg-type]
    except sa.exc.IntegrityError:
        existing = _existing(idempotency_key)
        if existing is None:
            raise
        return _same_request(existing, kwargs)


def _same_request(existing: Transaction, kwargs: dict[str, object]) -> Transaction:
    """The transaction a retry with this key gets, if it asks for the same movement."""
    for field in ("debit_account_id", "credit_account_id", "amount_minor", "kind"):
        if getattr(existing, field) != kwargs[field]:
            raise Conflict("This idempotency key was already used for a different request.")
    return existing


def deposit(
    account: Account,
    amount_minor: int,
    *,
    actor: User,
    description: str,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Money enters the bank: debit the currency's system account, credit the customer."""
    source = system_account(account.currency)
    return _post_once(
        idempotency_key,
        debit_account_id=source.id,
        credit_account_id=account.id,
        amount_minor=amount_minor,
        kind=TX_DEPOSIT,
        description=description,
        actor=actor,
        reference=reference,
    )


def withdraw(
    account: Account,
    amount_minor: int,
    *,
    actor: User,
    description: str,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Money leaves the bank: debit the customer, credit the currency's system account."""
    sink = system_account(account.currency)
    return _post_once(
        idempotency_key,
        debit_account_id=account.id,
        credit_account_id=sink.id,
        amount_minor=amount_minor,
        kind=TX_WITHDRAWAL,
        description=description,
        actor=actor,
        reference=reference,
    )


def transfer(
    source: Account,
    target: Account,
    amount_minor: int,
    *,
    actor: User,
    description: str,
    reference: str | None = None,
    idempotency_key: str | None = None,
) -> Transaction:
    """Move money between two customer accounts in the same currency."""
    if source.kind != KIND_CUSTOMER or target.kind != KIND_CUSTOMER:
        raise InvalidInput("Transfers move money between customer accounts.")
    return _post_once(
        idempotency_key,
        debit_account_id=source.id,
        credit_account_id=target.id,
        amount_minor=amount_minor,
        kind=TX_TRANSFER,
        description=description,
        actor=actor,
        reference=reference,
    )


def reverse(transaction_id: int, *, actor: User, reason: str) -> Transaction:
    """Post the opposite of a transaction, once, linked to it."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason for the reversal.", field="reason")
    try:
        with write_transaction() as s:
            # Lock the original first: concurrent reversals queue here and the losers see
            # the committed reversal below, not a balance that has already moved back.
            original = s.get(Transaction, transaction_id, with_for_update=True)
            if original is None:
                raise NotFound("No such transaction.")
            if original.kind == TX_REVERSAL:
                raise Conflict("A reversal cannot itself be reversed; post a new transaction.")
            already = s.scalar(
                sa.select(Transaction.id).where(Transaction.reverses_id == original.id)
            )
            if already is not None:
                raise Conflict("This transaction has already been reversed.")
            return post(
                s,
                debit_account_id=original.credit_account_id,
                credit_account_id=original.debit_account_id,
                amount_minor=original.amount_minor,
                kind=TX_REVERSAL,
                description=f"Reversal of #{original.id}: {reason}"[:DESCRIPTION_MAX],
                actor=actor,
                reference=original.reference,
                reverses_id=original.id,
            )
    except sa.exc.IntegrityError:
        raise Conflict("This transaction has already been reversed.") from None
