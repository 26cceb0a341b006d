"""The double-entry ledger: the one place where balances change.

Every movement is one ``Transaction`` row that debits one account and credits another
for the same amount; both balances change in the same database transaction. Accounts are
locked in ascending id order (no deadlocks). Posted rows are never edited or deleted:
a correction is a reversal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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

ACCOUNTS = Account.__table__
TRANSACTIONS = Transaction.__table__


@dataclass(frozen=True)
class LockedAccount:
    """An account row read under its lock: what a posting checks before it moves money."""

    id: int
    number: str
    kind: str
    currency: str
    status: str
    balance_minor: int


# Built once: Core statements with bound parameters compile once and are cached.
_LOCK = (
    sa.select(
        ACCOUNTS.c.id,
        ACCOUNTS.c.number,
        ACCOUNTS.c.kind,
        ACCOUNTS.c.currency,
        ACCOUNTS.c.status,
        ACCOUNTS.c.balance_minor,
    )
    .where(ACCOUNTS.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(ACCOUNTS.c.id)
    .with_for_update()
)
_INSERT = sa.insert(TRANSACTIONS).returning(TRANSACTIONS.c.id)
# Both balances in one statement: the debit loses the amount, the credit gains it.
_MOVE = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id.in_([sa.bindparam("debit"), sa.bindparam("credit")]))
    .values(
        balance_minor=ACCOUNTS.c.balance_minor
        + sa.case(
            (ACCOUNTS.c.id == sa.bindparam("credit"), sa.bindparam("amount")),
            else_=-sa.bindparam("amount"),
        )
    )
)


def lock_accounts(s: Session, *account_ids: int) -> dict[int, LockedAccount]:
    """Lock the accounts (``FOR UPDATE``) in ascending id order and return them by id."""
    ids = sorted(set(account_ids))
    found = {row.id: LockedAccount(*row) for row in s.connection().execute(_LOCK, {"ids": ids})}
    if len(found) != len(ids):
        raise NotFound("No such account.")
    return found


def _check_arguments(
    debit_account_id: int, credit_account_id: int, amount_minor: int, kind: str, description: str
) -> str:
    """The posting's own arguments, checked before any lock; the cleaned description."""
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
    return description


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
    _check_arguments(debit_account_id, credit_account_id, amount_minor, kind, description)
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
    tx_id = move(
        s,
        accounts[debit_account_id],
        accounts[credit_account_id],
        amount_minor,
        kind=kind,
        description=description,
        actor_id=audit.actor_id(actor),
        reference=reference,
        reverses_id=reverses_id,
        idempotency_key=idempotency_key,
    )
    tx = s.get(Transaction, tx_id)
    assert tx is not None
    return tx


def move(
    s: Session,
    debit: LockedAccount,
    credit: LockedAccount,
    amount_minor: int,
    *,
    kind: str,
    description: str,
    actor_id: int | None,
    reference: str | None = None,
    reverses_id: int | None = None,
    idempotency_key: str | None = None,
    also_record: Callable[[int], audit.Event] | None = None,
) -> int:
    """Move money between two accounts the caller has locked; the new transaction's id.

    Every check comes before the first write, so a refusal (a DomainError) leaves the
    caller's transaction as it was. The movement's audit event is inserted together with
    ``also_record(transaction_id)`` when the caller has one of its own (one statement).
    """
    description = _check_arguments(debit.id, credit.id, amount_minor, kind, description)
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
    conn = s.connection()
    tx_id: int = conn.execute(
        _INSERT,
        {
            "debit_account_id": debit.id,
            "credit_account_id": credit.id,
            "amount_minor": amount_minor,
            "currency": debit.currency,
            "kind": kind,
            "description": description,
            "reference": reference,
            "reverses_id": reverses_id,
            "created_by_id": actor_id,
            "idempotency_key": idempotency_key,
        },
    ).scalar_one()
    moved = conn.execute(_MOVE, {"debit": debit.id, "credit": credit.id, "amount": amount_minor})
    if moved.rowcount != 2:
        raise RuntimeError(f"transaction {tx_id} changed {moved.rowcount} balances, not 2")
    event = audit.Event(
        actor_id,
        f"transaction.{kind}",
        "transaction",
        tx_id,
        {
            "amount_minor": amount_minor,
            "currency": debit.currency,
            "debit": debit.number,
            "credit": credit.number,
            "description": description,
            "reverses_id": reverses_id,
        },
    )
    audit.record_all(s, [event] if also_record is None else [event, also_record(tx_id)])
    return tx_id


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
