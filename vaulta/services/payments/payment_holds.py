"""A payment's hold: placed when the payment is confirmed (pending approval), captured by
its execution's entry, released when it is rejected, cancelled, expires or fails.

So a pending payment reserves its amount: a second payment (or a debit) that the first
would leave uncovered is refused when it is made, not when it is approved
(vaulta/services/ledger/holds.py). Payments pending at the upgrade got their holds from
the migration (1f93857819a3); a payment without one is executed against its available
balance as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Hold, utcnow
from vaulta.models.hold import HOLD_ACTIVE, HOLD_CAPTURED, HOLD_EXPIRED, HOLD_RELEASED
from vaulta.services import audit
from vaulta.services.events import HoldData
from vaulta.services.events.outbox import emit_rows, event_row
from vaulta.services.ledger import holds
from vaulta.services.ledger.postings import LockedAccount, lock_accounts

HOLDS = Hold.__table__
ACCOUNTS = Account.__table__
_ACTIVE = (
    sa.select(
        HOLDS.c.payment_id,
        HOLDS.c.id,
        HOLDS.c.account_id,
        HOLDS.c.amount_minor,
        HOLDS.c.currency,
        HOLDS.c.reason,
        HOLDS.c.expires_at,
        ACCOUNTS.c.number.label("account"),
    )
    .join(ACCOUNTS, ACCOUNTS.c.id == HOLDS.c.account_id)
    .where(
        HOLDS.c.payment_id.in_(sa.bindparam("payment_ids", expanding=True)),
        HOLDS.c.status == HOLD_ACTIVE,
    )
)
_END = (
    sa.update(HOLDS)
    .where(HOLDS.c.id == sa.bindparam("hold_id"), HOLDS.c.status == HOLD_ACTIVE)
    .values(
        status=sa.bindparam("status"),
        captured_minor=sa.bindparam("captured_minor"),
        transaction_id=sa.bindparam("transaction_id"),
        ended_by_id=sa.bindparam("actor_id"),
        ended_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)
# A payment's hold captured by its execution, with the posting (a ``FollowUp.also`` of
# payment_execution: its parameters are the payment update's; the balance update lowers
# the account's held amount).
CAPTURE_WITH_POSTING = (
    sa.update(HOLDS)
    .where(HOLDS.c.id == sa.bindparam("hold_id"), HOLDS.c.status == HOLD_ACTIVE)
    .values(
        status=HOLD_CAPTURED,
        captured_minor=HOLDS.c.amount_minor,
        transaction_id=sa.bindparam("new_transaction_id"),
        ended_by_id=sa.bindparam("approver_id"),
        ended_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
    )
)
_ADD_HELD = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id == sa.bindparam("account_id"))
    .values(held_minor=ACCOUNTS.c.held_minor + sa.bindparam("delta"))
)


def hold_for(
    s: Session,
    payment_id: int,
    account_id: int,
    amount_minor: int,
    *,
    expires_at: datetime,
    actor_id: int | None,
    locked: LockedAccount | None = None,
) -> int:
    """Lock the paying account (unless the caller passes it ``locked``) and hold the
    payment's amount on it (refused, with ``InsufficientFunds``, when its available
    balance does not cover it)."""
    account = locked if locked is not None else lock_accounts(s, account_id)[account_id]
    return holds.place_locked(
        s,
        account,
        amount_minor,
        reason=f"Payment #{payment_id}",
        expires_at=expires_at,
        actor_id=actor_id,
        payment_id=payment_id,
    )


class PaymentHold(NamedTuple):
    """A payment's active hold (``_ACTIVE``'s columns), read with the payment's lock."""

    payment_id: int
    id: int
    account_id: int
    amount_minor: int
    currency: str
    reason: str
    expires_at: datetime
    account: str  # its number


def active(s: Session, payment_ids: Iterable[int]) -> dict[int, Any]:
    """The active holds of these payments, by payment id (``_ACTIVE``'s columns)."""
    ids = sorted(set(payment_ids))
    if not ids:
        return {}
    return {row.payment_id: row for row in s.execute(_ACTIVE, {"payment_ids": ids})}


def without_holds(
    accounts: dict[int, LockedAccount], found: Iterable[Any]
) -> dict[int, LockedAccount]:
    """The locked accounts as the payments' postings see them: their holds taken off."""
    freed: dict[int, int] = {}
    for row in found:
        freed[row.account_id] = freed.get(row.account_id, 0) + row.amount_minor
    return {
        account_id: replace(account, held_minor=account.held_minor - freed.get(account_id, 0))
        if account_id in freed
        else account
        for account_id, account in accounts.items()
    }


def settle_locked(
    s: Session,
    found: dict[int, Any],
    outcomes: dict[int, int | None],
    *,
    actor_id: int | None,
) -> None:
    """After payments' executions (their accounts locked): capture each one's hold into its
    transaction (``outcomes[payment_id]``), or release it when the payment failed
    (``None``). A fixed number of statements however many payments: one UPDATE of the
    holds, one of the accounts' held amounts, the audit events and the outbox rows."""
    settled = [(found[pid], tx_id) for pid, tx_id in outcomes.items() if pid in found]
    if not settled:
        return
    now = utcnow()
    conn = s.connection()
    conn.execute(
        _END,
        [
            {
                "hold_id": row.id,
                "status": HOLD_RELEASED if tx_id is None else HOLD_CAPTURED,
                "captured_minor": 0 if tx_id is None else row.amount_minor,
                "transaction_id": tx_id,
                "actor_id": actor_id,
                "now": now,
            }
            for row, tx_id in settled
        ],
    )
    freed: dict[int, int] = {}
    for row, _tx_id in settled:
        freed[row.account_id] = freed.get(row.account_id, 0) - row.amount_minor
    conn.execute(_ADD_HELD, [{"account_id": a, "delta": d} for a, d in sorted(freed.items())])
    ended = [ended_records(row, tx_id, actor_id) for row, tx_id in settled]
    audit.record_all(s, [record for record, _ in ended])
    emit_rows(s, conn, [row for _, row in ended])


def ended_records(
    row: Any, tx_id: int | None, actor_id: int | None
) -> tuple[audit.Event, dict[str, Any]]:
    """The audit event and the outbox row of a payment's hold (``_ACTIVE``'s columns)
    captured into ``tx_id``, or released when it is None."""
    status = HOLD_RELEASED if tx_id is None else HOLD_CAPTURED
    verb = "release" if tx_id is None else "capture"
    captured = 0 if tx_id is None else row.amount_minor
    record = audit.Event(
        actor_id,
        f"hold.{verb}",
        "hold",
        row.id,
        {"payment_id": row.payment_id, "captured_minor": captured},
    )
    data = HoldData(
        id=row.id,
        account=row.account,
        status=status,
        amount_minor=row.amount_minor,
        currency=row.currency,
        captured_minor=captured,
        reason=row.reason,
        expires_at=row.expires_at,
        payment_id=row.payment_id,
        transaction_id=tx_id,
    )
    return record, event_row("hold.released" if tx_id is None else "hold.captured", data)


def release(
    s: Session, payment_ids: Iterable[int], *, actor_id: int | None, expired: bool = False
) -> None:
    """Release the holds of payments that ended without execution (rejected, cancelled,
    expired): their accounts are locked first, in ascending id order."""
    found = active(s, payment_ids)
    if not found:
        return
    lock_accounts(s, *(row.account_id for row in found.values()))
    status = HOLD_EXPIRED if expired else HOLD_RELEASED
    for payment_id in sorted(found):
        holds.release_locked(s, found[payment_id].id, actor_id=actor_id, status=status)
