"""Multi-leg entries: ``post_entry`` posts one journal entry of two or more legs.

The entry's header is a ``transactions`` row whose debit/credit accounts and amount are
its principal movement ("from", "to", the amount in the from-account's currency); the
legs are its postings, the truth for balances. A conversion between currencies (four
legs through the bank's FX position accounts) or a payment with its fee (three legs) are
such entries. The caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import utcnow
from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.errors import InvalidInput
from vaulta.services.events import TransactionData, event_row
from vaulta.services.events.outbox import emit_rows
from vaulta.services.ledger.postings import (
    _ADD,
    _INSERT_POSTINGS,
    TRANSACTIONS,
    LockedAccount,
    _check_arguments,
    check_debit,
    check_usable,
    lock_accounts,
)

_INSERT_HEADER = sa.insert(TRANSACTIONS).returning(TRANSACTIONS.c.id)


@dataclass(frozen=True)
class Leg:
    """One leg of an entry: a signed amount (credit positive, debit negative) on an
    account, in the account's currency."""

    account_id: int
    amount_minor: int  # signed


def post_entry(
    s: Session,
    legs: Sequence[Leg],
    *,
    kind: str,
    description: str,
    actor_id: int | None,
    reference: str | None = None,
    value_date: date | None = None,
    from_account_id: int,
    to_account_id: int,
    principal_minor: int,
    idempotency_key: str | None = None,
    also_record: Callable[[int], audit.Event] | None = None,
    also_emit: Callable[[int], dict[str, object] | list[dict[str, object]]] | None = None,
    reverses_id: int | None = None,
) -> int:
    """Post one entry of ``legs`` in the caller's write transaction; its transaction id.

    The header records the principal movement (``from_account_id`` -> ``to_account_id``,
    ``principal_minor`` in the from-account's currency; both accounts must be among the
    legs). Every leg's account is locked (ascending id) and checked before the first
    write: usable, and a debited customer account within its funds (``check_debit``, on
    the account's net debit across the legs); the legs must be two or more, non-zero and
    sum to zero per currency. Then the header, the postings (on ``value_date``, today UTC
    when None) and every balance change are written, the audit event
    ``transaction.<kind>`` (plus ``also_record(transaction_id)``) recorded and
    ``transaction.posted`` (plus ``also_emit(transaction_id)``) emitted. A refusal (a
    DomainError) writes nothing. ``reverses_id`` links a reversal to its original
    (``ledger.reverse`` of a multi-leg entry).
    """
    description = _check_arguments(
        from_account_id, to_account_id, principal_minor, kind, description
    )
    legs = list(legs)
    if len(legs) < 2:
        raise InvalidInput("An entry needs at least two legs.")
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    for leg in legs:
        amount = leg.amount_minor
        if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
            raise InvalidInput("Every leg moves a whole, non-zero number of minor units.")
        if abs(amount) > maximum:
            raise InvalidInput("A leg is above the ledger's amount limit.", field="amount")
    ids = {leg.account_id for leg in legs}
    if from_account_id not in ids or to_account_id not in ids:
        raise InvalidInput("The entry's from and to accounts must be among its legs.")
    accounts = lock_accounts(s, *ids)
    _check_legs(accounts, legs)
    source = accounts[from_account_id]
    booked_at = utcnow()
    day = value_date or booked_at.date()
    conn = s.connection()
    if s.new:
        s.flush()
    tx_id: int = conn.execute(
        _INSERT_HEADER,
        {
            "debit_account_id": from_account_id,
            "credit_account_id": to_account_id,
            "amount_minor": principal_minor,
            "currency": source.currency,
            "kind": kind,
            "description": description,
            "reference": reference,
            "reverses_id": reverses_id,
            "created_by_id": actor_id,
            "idempotency_key": idempotency_key,
            "created_at": booked_at,
        },
    ).scalar_one()
    conn.execute(
        _INSERT_POSTINGS,
        [
            {
                "transaction_id": tx_id,
                "account_id": leg.account_id,
                "amount_minor": leg.amount_minor,
                "currency": accounts[leg.account_id].currency,
                "value_date": day,
                "created_at": booked_at,
            }
            for leg in legs
        ],
    )
    conn.execute(
        _ADD,
        [{"account_id": a, "delta": d} for a, d in sorted(_net(legs).items()) if d != 0],
    )
    details = {
        "amount_minor": principal_minor,
        "currency": source.currency,
        "debit": source.number,
        "credit": accounts[to_account_id].number,
        "description": description,
        "value_date": day.isoformat(),
        "reverses_id": reverses_id,
        "legs": [
            {
                "account": accounts[leg.account_id].number,
                "amount_minor": leg.amount_minor,
                "currency": accounts[leg.account_id].currency,
            }
            for leg in legs
        ],
    }
    event = audit.Event(actor_id, f"transaction.{kind}", "transaction", tx_id, details)
    audit.record_all(s, [event] if also_record is None else [event, also_record(tx_id)])
    posted = event_row(
        "transaction.posted",
        TransactionData(
            id=tx_id,
            kind=kind,
            amount_minor=principal_minor,
            currency=source.currency,
            debit_account=source.number,
            credit_account=accounts[to_account_id].number,
            description=description,
            reference=reference,
            reverses_id=reverses_id,
        ),
    )
    extra = [] if also_emit is None else also_emit(tx_id)
    emit_rows(s, conn, [posted, *(extra if isinstance(extra, list) else [extra])])
    return tx_id


def _net(legs: Sequence[Leg]) -> dict[int, int]:
    """Each account's change across the legs."""
    net: dict[int, int] = defaultdict(int)
    for leg in legs:
        net[leg.account_id] += leg.amount_minor
    return net


def _check_legs(accounts: dict[int, LockedAccount], legs: Sequence[Leg]) -> None:
    """The refusals an entry can meet once its accounts are locked."""
    for account in accounts.values():
        check_usable(account)
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[accounts[leg.account_id].currency] += leg.amount_minor
    for currency, total in sorted(totals.items()):
        if total != 0:
            raise InvalidInput(
                f"The entry does not balance in {currency}: its legs sum to "
                f"{format_amount(total, currency)}."
            )
    for account_id, change in sorted(_net(legs).items()):
        if change < 0:
            check_debit(accounts[account_id], -change)
