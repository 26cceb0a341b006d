"""Postings: the one place where balances change (see the package docstring).

``lock_accounts`` locks the accounts of a posting; ``move`` (one movement) and
``move_many`` (several, one statement per kind of write) check and post. Every check
comes before the first write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Posting, Transaction, utcnow
from vaulta.models.account import KIND_CUSTOMER, MAY_RECEIVE, MAY_SEND, refusal
from vaulta.models.transaction import TRANSACTION_KINDS
from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.errors import (
    AccountNotAvailable,
    DomainError,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from vaulta.services.events import TransactionData, event_row
from vaulta.services.events.outbox import emit_rows, mark_pending
from vaulta.services.ledger.writes import FollowUp, write_movement
from vaulta.text import display_problem

DESCRIPTION_MAX = 200

ACCOUNTS = Account.__table__
TRANSACTIONS = Transaction.__table__
POSTINGS = Posting.__table__


@dataclass(frozen=True)
class LockedAccount:
    """An account row read under its lock: what a posting checks before it moves money."""

    id: int
    number: str
    kind: str
    currency: str
    status: str
    balance_minor: int
    overdraft_limit_minor: int = 0  # a customer account may go down to minus this
    held_minor: int = 0  # the account's active holds (vaulta/services/ledger/holds.py)

    @property
    def available_minor(self) -> int:
        """What a debit may take: the balance less active holds plus the overdraft limit."""
        return self.balance_minor - self.held_minor + self.overdraft_limit_minor


# Built once: Core statements with bound parameters compile once and are cached.
_LOCK = (
    sa.select(
        ACCOUNTS.c.id,
        ACCOUNTS.c.number,
        ACCOUNTS.c.kind,
        ACCOUNTS.c.currency,
        ACCOUNTS.c.status,
        ACCOUNTS.c.balance_minor,
        ACCOUNTS.c.overdraft_limit_minor,
        ACCOUNTS.c.held_minor,
    )
    .where(ACCOUNTS.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(ACCOUNTS.c.id)
    .with_for_update()
)
_INSERT_MANY = sa.insert(TRANSACTIONS).returning(TRANSACTIONS.c.id, sort_by_parameter_order=True)
_INSERT_POSTINGS = sa.insert(POSTINGS)
_ADD = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id == sa.bindparam("account_id"))
    .values(balance_minor=ACCOUNTS.c.balance_minor + sa.bindparam("delta"))
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
    if problem := display_problem(description):
        raise InvalidInput(problem, field="description")
    return description


def _check_move(debit: LockedAccount, credit: LockedAccount, amount_minor: int) -> None:
    """The refusals a movement can meet once its accounts are locked."""
    if debit.currency != credit.currency:
        raise InvalidInput("Both accounts must be in the same currency.")
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    if amount_minor > maximum:
        raise InvalidInput(
            f"The amount is above the limit of {format_amount(maximum, debit.currency)}.",
            field="amount",
        )
    for account in (debit, credit):
        check_usable(account)
    check_debit(debit, amount_minor)
    check_credit(credit)


def check_usable(account: LockedAccount) -> None:
    """Refuse an account that cannot take part in a posting (frozen, closed). A debit- or
    credit-blocked one may, in its other direction (``check_debit``, ``check_credit``)."""
    if account.status not in (*MAY_SEND, *MAY_RECEIVE):
        raise AccountNotAvailable(f"Account {account.number} is {account.status}.")


def check_credit(account: LockedAccount) -> None:
    """Refuse to pay into a credit-blocked (or frozen, closed) account."""
    if problem := refusal(account.number, account.status, sending=False):
        raise AccountNotAvailable(problem)


def check_debit(account: LockedAccount, amount_minor: int) -> None:
    """Refuse to take ``amount_minor`` (> 0) from ``account`` (read under its lock) when it
    is debit-blocked (or frozen, closed) or its funds do not cover it. The one funds check
    of the ledger: ``move``, ``move_many`` and ``post_entry`` all call it, and so does
    placing a hold. System accounts may go below zero. A customer account's funds are its
    available balance: the balance less its active holds (``held_minor``, read with the
    lock; a capture passes the account with its own hold already taken off) plus its
    overdraft limit (it may go down to minus the limit, never further)."""
    if problem := refusal(account.number, account.status, sending=True):
        raise AccountNotAvailable(problem)
    if account.kind == KIND_CUSTOMER and account.available_minor < amount_minor:
        held = (
            f", {format_amount(account.held_minor, account.currency)} held"
            if account.held_minor
            else ""
        )
        limit = account.overdraft_limit_minor
        overdraft = f", overdraft limit {format_amount(limit, account.currency)}" if limit else ""
        raise InsufficientFunds(
            f"Insufficient funds: the available balance of {account.number} is "
            f"{format_amount(account.available_minor, account.currency)}{held}{overdraft}."
        )


def _movement_event(
    actor_id: int | None,
    tx_id: int,
    debit: LockedAccount,
    credit: LockedAccount,
    amount_minor: int,
    kind: str,
    description: str,
    reverses_id: int | None,
) -> audit.Event:
    details = {
        "amount_minor": amount_minor,
        "currency": debit.currency,
        "debit": debit.number,
        "credit": credit.number,
        "description": description,
        "reverses_id": reverses_id,
    }
    return audit.Event(actor_id, f"transaction.{kind}", "transaction", tx_id, details)


def _posted_event(
    tx_id: int,
    debit: LockedAccount,
    credit: LockedAccount,
    amount_minor: int,
    kind: str,
    description: str,
    reference: str | None,
    reverses_id: int | None,
) -> dict[str, object]:
    """The outbox row of ``transaction.posted`` (vaulta/services/events)."""
    data = TransactionData(
        id=tx_id,
        kind=kind,
        amount_minor=amount_minor,
        currency=debit.currency,
        debit_account=debit.number,
        credit_account=credit.number,
        description=description,
        reference=reference,
        reverses_id=reverses_id,
    )
    return event_row("transaction.posted", data)


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
    follow_up: FollowUp | None = None,
    transaction_id: int | None = None,
    also_emit: Callable[[int], dict[str, object] | list[dict[str, object]]] | None = None,
    value_date: date | None = None,
) -> int:
    """Move money between two accounts the caller has locked; the new transaction's id.

    Its two postings (the debit's negative, the credit's positive) carry ``value_date``
    (today UTC when None).

    Every check comes before the first write, so a refusal (a DomainError) leaves the
    caller's transaction as it was. The movement's audit event is recorded together with
    ``also_record(transaction_id)`` when the caller has one of its own (chained and
    inserted as the transaction commits), and the caller's ``follow_up`` write goes with
    the movement (``writes.write_movement``: one statement on PostgreSQL when the lock
    reserved ``transaction_id``, two otherwise). So do the business events:
    ``transaction.posted`` and the caller's ``also_emit(transaction_id)`` (an
    ``events.event_row``, or a list of them), in the same statement.
    """
    description = _check_arguments(debit.id, credit.id, amount_minor, kind, description)
    _check_move(debit, credit, amount_minor)
    row = _transaction_row(
        debit, credit, amount_minor, kind, description, actor_id, reference, reverses_id
    ) | {"idempotency_key": idempotency_key, "id": transaction_id}

    def events(tx_id: int) -> list[audit.Event]:
        event = _movement_event(
            actor_id, tx_id, debit, credit, amount_minor, kind, description, reverses_id
        )
        return [event] if also_record is None else [event, also_record(tx_id)]

    def outbox(tx_id: int) -> list[dict[str, object]]:
        posted = _posted_event(
            tx_id, debit, credit, amount_minor, kind, description, reference, reverses_id
        )
        extra = [] if also_emit is None else also_emit(tx_id)
        return [posted, *(extra if isinstance(extra, list) else [extra])]

    if s.new:
        s.flush()
    mark_pending(s)
    tx_id = write_movement(
        s.connection(), row, follow_up=follow_up, outbox=outbox, value_date=value_date
    )
    audit.record_all(s, events(tx_id))
    return tx_id


def _transaction_row(
    debit: LockedAccount,
    credit: LockedAccount,
    amount_minor: int,
    kind: str,
    description: str,
    actor_id: int | None,
    reference: str | None,
    reverses_id: int | None = None,
) -> dict[str, object]:
    return {
        "debit_account_id": debit.id,
        "credit_account_id": credit.id,
        "amount_minor": amount_minor,
        "currency": debit.currency,
        "kind": kind,
        "description": description,
        "reference": reference,
        "reverses_id": reverses_id,
        "created_by_id": actor_id,
    }


@dataclass(frozen=True)
class Move:
    """One movement of a batch (``move_many``)."""

    debit_account_id: int
    credit_account_id: int
    amount_minor: int
    kind: str
    description: str
    reference: str | None = None


def move_many(
    s: Session,
    accounts: dict[int, LockedAccount],
    moves: Sequence[Move],
    *,
    actor_id: int | None,
    also_record: Callable[[int, int], audit.Event] | None = None,
    value_date: date | None = None,
) -> list[int | DomainError]:
    """Post several movements between accounts the caller has locked, in order.

    Each is checked against the balances the ones before it left, exactly as if they
    were posted one by one; a refused one posts nothing and its error takes its place in
    the result (the others' transaction ids). The writes are one INSERT of every
    transaction, one INSERT of their postings (on ``value_date``, today UTC when None),
    one balance UPDATE per account, one audit INSERT (each movement's
    event, plus ``also_record(index, transaction_id)`` when given) and one outbox INSERT
    (each movement's ``transaction.posted``).
    """
    balances = {account_id: account.balance_minor for account_id, account in accounts.items()}
    outcomes: list[int | DomainError] = []
    accepted: list[tuple[int, Move, str, LockedAccount, LockedAccount]] = []
    for index, m in enumerate(moves):
        debit = replace(accounts[m.debit_account_id], balance_minor=balances[m.debit_account_id])
        credit = accounts[m.credit_account_id]
        try:
            description = _check_arguments(
                debit.id, credit.id, m.amount_minor, m.kind, m.description
            )
            _check_move(debit, credit, m.amount_minor)
        except (InsufficientFunds, AccountNotAvailable, InvalidInput) as err:
            outcomes.append(err)
            continue
        balances[debit.id] -= m.amount_minor
        balances[credit.id] += m.amount_minor
        outcomes.append(0)  # its transaction id, below
        accepted.append((index, m, description, debit, credit))
    if not accepted:
        return outcomes
    conn = s.connection()
    rows = [
        _transaction_row(debit, credit, m.amount_minor, m.kind, description, actor_id, m.reference)
        | {"idempotency_key": None}
        for _index, m, description, debit, credit in accepted
    ]
    booked_at = utcnow()
    for row in rows:
        row["created_at"] = booked_at
    tx_ids = conn.execute(_INSERT_MANY, rows).scalars().all()
    day = value_date or booked_at.date()
    conn.execute(
        _INSERT_POSTINGS,
        [
            {
                "transaction_id": tx_id,
                "account_id": account_id,
                "amount_minor": amount,
                "currency": row["currency"],
                "value_date": day,
                "created_at": booked_at,
            }
            for row, tx_id in zip(rows, tx_ids, strict=True)
            for account_id, amount in (
                (row["debit_account_id"], -row["amount_minor"]),  # type: ignore[operator]
                (row["credit_account_id"], row["amount_minor"]),
            )
        ],
    )
    changes = {
        account_id: balances[account_id] - account.balance_minor
        for account_id, account in accounts.items()
        if balances[account_id] != account.balance_minor
    }
    conn.execute(_ADD, [{"account_id": a, "delta": d} for a, d in sorted(changes.items())])
    events = []
    posted = []
    for (index, m, description, debit, credit), tx_id in zip(accepted, tx_ids, strict=True):
        posted.append(
            _posted_event(
                tx_id, debit, credit, m.amount_minor, m.kind, description, m.reference, None
            )
        )
        outcomes[index] = tx_id
        events.append(
            _movement_event(
                actor_id, tx_id, debit, credit, m.amount_minor, m.kind, description, None
            )
        )
        if also_record is not None:
            events.append(also_record(index, tx_id))
    audit.record_all(s, events)
    emit_rows(s, conn, posted)
    return outcomes
