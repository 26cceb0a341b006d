"""``post`` (one checked, idempotent posting in the caller's transaction) and what is built
on it: deposits, withdrawals, transfers and reversals, each in its own transaction."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Posting, Transaction, User
from vaulta.models.account import KIND_CUSTOMER
from vaulta.models.transaction import TX_DEPOSIT, TX_REVERSAL, TX_TRANSFER, TX_WITHDRAWAL
from vaulta.services.audit.recording import actor_id
from vaulta.services.banking.accounts import system_account
from vaulta.services.errors import Conflict, InvalidInput, NotFound
from vaulta.services.ledger.entries import Leg, post_entry
from vaulta.services.ledger.postings import DESCRIPTION_MAX, _check_arguments, lock_accounts, move
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem


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
    value_date: date | None = None,
) -> Transaction:
    """Post one transaction inside the caller's write transaction (no commit here); its
    postings carry ``value_date`` (today UTC when None)."""
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
        actor_id=actor_id(actor),
        reference=reference,
        reverses_id=reverses_id,
        idempotency_key=idempotency_key,
        value_date=value_date,
    )
    tx = s.get(Transaction, tx_id)
    assert tx is not None
    return tx


def _same_request(existing: Transaction, kwargs: dict[str, object]) -> Transaction:
    """The transaction a retry with this key gets, if it asks for the same movement."""
    for field in ("debit_account_id", "credit_account_id", "amount_minor", "kind"):
        if getattr(existing, field) != kwargs[field]:
            raise Conflict("This idempotency key was already used for a different request.")
    return existing


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


def deposit(
    account: Account,
    amount_minor: int,
    *,
    actor: User,
    description: str,
    reference: str | None = None,
    idempotency_key: str | None = None,
    value_date: date | None = None,
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
        value_date=value_date,
    )


def withdraw(
    account: Account,
    amount_minor: int,
    *,
    actor: User,
    description: str,
    reference: str | None = None,
    idempotency_key: str | None = None,
    value_date: date | None = None,
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
        value_date=value_date,
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
    """Post the opposite of a transaction, once, linked to it: every one of its legs
    (a multi-leg entry is reversed by the opposite multi-leg entry)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason for the reversal.", field="reason")
    if problem := display_problem(reason):
        raise InvalidInput(problem, field="reason")
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
            legs = s.execute(
                sa.select(Posting.account_id, Posting.amount_minor)
                .where(Posting.transaction_id == original.id)
                .order_by(Posting.id)
            ).all()
            if len(legs) > 2:
                # The principal goes back from what the to-account received (its currency).
                received = sum(
                    amount
                    for account_id, amount in legs
                    if account_id == original.credit_account_id and amount > 0
                )
                tx_id = post_entry(
                    s,
                    [Leg(account_id, -amount) for account_id, amount in legs],
                    kind=TX_REVERSAL,
                    description=f"Reversal of #{original.id}: {reason}"[:DESCRIPTION_MAX],
                    actor_id=actor_id(actor),
                    reference=original.reference,
                    from_account_id=original.credit_account_id,
                    to_account_id=original.debit_account_id,
                    principal_minor=received or original.amount_minor,
                    reverses_id=original.id,
                )
                reversal = s.get(Transaction, tx_id)
                assert reversal is not None
                return reversal
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
