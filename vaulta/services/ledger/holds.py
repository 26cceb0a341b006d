"""Holds (commands): reserve an amount on an account, then capture, release or expire it.

Every change to a hold happens under its account's row lock (``lock_accounts``) and
changes ``accounts.held_minor`` by the same amount in the same transaction, so
``balance_minor - held_minor`` (the available balance) is what a debit or a new hold is
checked against (``postings.check_debit``): two holds or payments that each fit can never
together overdraw the account. A capture posts one entry for the captured amount (the
account is debited, the currency's system account credited) and releases the rest.

The ``*_locked`` functions work in the caller's transaction on an account it has locked
(payments use them); ``place``, ``capture``, ``release`` and ``expire_due`` are each one
write transaction. Each records an audit event and emits ``hold.<placed|captured|released|
expired>``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Hold, User, utcnow
from vaulta.models.account import KIND_CUSTOMER, KIND_SYSTEM
from vaulta.models.hold import (
    HOLD_ACTIVE,
    HOLD_CAPTURED,
    HOLD_EXPIRED,
    HOLD_RELEASED,
    REASON_MAX,
)
from vaulta.models.transaction import TX_WITHDRAWAL
from vaulta.services import audit, events
from vaulta.services.audit.recording import actor_id as id_of
from vaulta.services.banking.accounts import system_account
from vaulta.services.errors import AccountNotAvailable, Conflict, InvalidInput, NotFound
from vaulta.services.events import HoldData
from vaulta.services.ledger.postings import LockedAccount, check_debit, lock_accounts, move
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

HOLDS = Hold.__table__
# How often the expiry job runs (vaulta/ops/jobs.py, every 5 minutes): verify-ledger lets an
# active hold outlive its expiry by at most this much.
EXPIRY_PERIOD = timedelta(minutes=5)
ACCOUNTS = Account.__table__

_ADD_HELD = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id == sa.bindparam("account_id"))
    .values(held_minor=ACCOUNTS.c.held_minor + sa.bindparam("delta"))
)


def check_amount(amount_minor: object) -> int:
    """A hold's amount: a positive integer of minor units."""
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool) or amount_minor <= 0:
        raise InvalidInput("The amount must be greater than zero.", field="amount_minor")
    return amount_minor


def check_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason for the hold.", field="reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    if problem := display_problem(reason):
        raise InvalidInput(problem, field="reason")
    return reason


def check_expiry(expires_at: datetime, now: datetime | None = None) -> datetime:
    if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
        raise InvalidInput("Give the expiry as a date and time with its zone.", field="expires_at")
    if expires_at <= (now or utcnow()):
        raise InvalidInput("The expiry must be in the future.", field="expires_at")
    return expires_at


def _data(s: Session, hold_id: int) -> HoldData:
    row = s.execute(
        sa.select(
            HOLDS.c.id,
            ACCOUNTS.c.number.label("account"),
            HOLDS.c.status,
            HOLDS.c.amount_minor,
            HOLDS.c.currency,
            HOLDS.c.captured_minor,
            HOLDS.c.reason,
            HOLDS.c.expires_at,
            HOLDS.c.payment_id,
            HOLDS.c.transaction_id,
        )
        .join(ACCOUNTS, ACCOUNTS.c.id == HOLDS.c.account_id)
        .where(HOLDS.c.id == hold_id)
    ).one()
    return HoldData(**row._asdict())


def place_locked(
    s: Session,
    account: LockedAccount,
    amount_minor: int,
    *,
    reason: str,
    expires_at: datetime,
    actor_id: int | None,
    payment_id: int | None = None,
) -> int:
    """Hold ``amount_minor`` on an account the caller has locked; the hold's id.

    Refused (before any write) when the account cannot be debited or its available
    balance is below the amount (``check_debit``: the same check as a posting)."""
    check_amount(amount_minor)
    reason = check_reason(reason)
    check_expiry(expires_at)
    check_debit(account, amount_minor)
    now = utcnow()
    hold_id = s.execute(
        sa.insert(HOLDS).returning(HOLDS.c.id),
        {
            "account_id": account.id,
            "amount_minor": amount_minor,
            "currency": account.currency,
            "reason": reason,
            "expires_at": expires_at,
            "status": HOLD_ACTIVE,
            "captured_minor": 0,
            "payment_id": payment_id,
            "created_by_id": actor_id,
            "created_at": now,
            "updated_at": now,
        },
    ).scalar_one()
    s.execute(_ADD_HELD, {"account_id": account.id, "delta": amount_minor})
    audit.record(
        s,
        actor=actor_id,
        action="hold.place",
        object_type="hold",
        object_id=hold_id,
        details={
            "account": account.number,
            "amount_minor": amount_minor,
            "currency": account.currency,
            "reason": reason,
            "expires_at": expires_at.isoformat(),
            "payment_id": payment_id,
        },
    )
    events.emit(s, "hold.placed", _data(s, hold_id))
    return hold_id


def _end(
    s: Session,
    hold_id: int,
    status: str,
    *,
    actor_id: int | None,
    captured_minor: int = 0,
    transaction_id: int | None = None,
) -> int:
    """End an active hold whose account the caller has locked; the amount it held."""
    now = utcnow()
    amount = s.execute(
        sa.update(HOLDS)
        .where(HOLDS.c.id == hold_id, HOLDS.c.status == HOLD_ACTIVE)
        .values(
            status=status,
            captured_minor=captured_minor,
            transaction_id=transaction_id,
            ended_by_id=actor_id,
            ended_at=now,
            updated_at=now,
        )
        .returning(HOLDS.c.amount_minor, HOLDS.c.account_id)
    ).one_or_none()
    if amount is None:
        raise Conflict("This hold is no longer active.")
    s.execute(_ADD_HELD, {"account_id": amount.account_id, "delta": -amount.amount_minor})
    return int(amount.amount_minor)


def _event(s: Session, hold_id: int, status: str, actor_id: int | None, **details: object) -> None:
    verb = {HOLD_CAPTURED: "captured", HOLD_RELEASED: "released", HOLD_EXPIRED: "expired"}[status]
    action = {HOLD_CAPTURED: "capture", HOLD_RELEASED: "release", HOLD_EXPIRED: "expire"}[status]
    audit.record(
        s,
        actor=actor_id,
        action=f"hold.{action}",
        object_type="hold",
        object_id=hold_id,
        details=details or None,
    )
    events.emit(s, f"hold.{verb}", _data(s, hold_id))


def release_locked(
    s: Session, hold_id: int, *, actor_id: int | None, status: str = HOLD_RELEASED
) -> int:
    """Release (or expire) an active hold whose account the caller has locked; its amount."""
    amount = _end(s, hold_id, status, actor_id=actor_id)
    _event(s, hold_id, status, actor_id, amount_minor=amount)
    return amount


def capture_locked(
    s: Session, hold_id: int, amount_minor: int, *, actor_id: int | None, transaction_id: int
) -> None:
    """Mark an active hold captured by ``transaction_id`` (posted by the caller after
    ``free_for_capture``) for ``amount_minor``; the rest is released with it."""
    _end(
        s,
        hold_id,
        HOLD_CAPTURED,
        actor_id=actor_id,
        captured_minor=amount_minor,
        transaction_id=transaction_id,
    )
    _event(s, hold_id, HOLD_CAPTURED, actor_id, captured_minor=amount_minor)


def _active(s: Session, hold_id: int) -> sa.Row:  # type: ignore[type-arg]
    hold = s.execute(
        sa.select(
            HOLDS.c.id,
            HOLDS.c.account_id,
            HOLDS.c.amount_minor,
            HOLDS.c.status,
            HOLDS.c.payment_id,
        ).where(HOLDS.c.id == hold_id)
    ).one_or_none()
    if hold is None:
        raise NotFound("No such hold.")
    if hold.status != HOLD_ACTIVE:
        raise Conflict(f"This hold is already {hold.status}.")
    return hold


def place(
    account_id: int,
    amount_minor: int,
    *,
    reason: str,
    expires_at: datetime,
    actor: User | None,
) -> int:
    """Place a hold on an account in its own transaction; the hold's id."""
    with write_transaction() as s:
        return place_in(
            s, account_id, amount_minor, reason=reason, expires_at=expires_at, actor_id=id_of(actor)
        )


def place_in(
    s: Session,
    account_id: int,
    amount_minor: int,
    *,
    reason: str,
    expires_at: datetime,
    actor_id: int | None,
) -> int:
    """Lock the account and place a hold on it, in the caller's transaction."""
    check_amount(amount_minor)
    reason = check_reason(reason)
    check_expiry(expires_at)
    account = lock_accounts(s, account_id)[account_id]
    if account.kind != KIND_CUSTOMER:
        raise InvalidInput("Holds are placed on customer accounts.", field="account")
    return place_locked(
        s, account, amount_minor, reason=reason, expires_at=expires_at, actor_id=actor_id
    )


def release(hold_id: int, *, actor: User | None) -> int:
    """Release an active hold (not a payment's: the payment's decision does that); the
    amount it held."""
    with write_transaction() as s:
        return release_in(s, hold_id, actor_id=id_of(actor))


def release_in(s: Session, hold_id: int, *, actor_id: int | None) -> int:
    account_id = _account_of(s, hold_id)
    lock_accounts(s, account_id)
    hold = _active(s, hold_id)
    if hold.payment_id is not None:
        raise Conflict("A payment's hold ends with the payment's decision.")
    return release_locked(s, hold_id, actor_id=actor_id)


def capture(
    hold_id: int, amount_minor: int | None = None, *, actor: User | None
) -> tuple[int, int]:
    """Capture an active hold (all of it, or ``amount_minor`` of it) in its own
    transaction; (captured amount, transaction id)."""
    currency = (
        session()
        .execute(sa.select(HOLDS.c.currency).where(HOLDS.c.id == hold_id))
        .scalar_one_or_none()
    )
    if currency is None:
        raise NotFound("No such hold.")
    system_account(currency)  # created now (its own transaction) if it is missing
    with write_transaction() as s:
        return capture_in(s, hold_id, amount_minor, actor_id=id_of(actor))


def capture_in(
    s: Session, hold_id: int, amount_minor: int | None, *, actor_id: int | None
) -> tuple[int, int]:
    """Capture an active hold in the caller's transaction: post one entry debiting its
    account for the amount (the currency's system account credited) and release the rest."""
    if amount_minor is not None:
        check_amount(amount_minor)
    account_id = _account_of(s, hold_id)
    currency = s.execute(
        sa.select(ACCOUNTS.c.currency).where(ACCOUNTS.c.id == account_id)
    ).scalar_one()
    sink_id = s.execute(
        sa.select(ACCOUNTS.c.id).where(
            ACCOUNTS.c.kind == KIND_SYSTEM, ACCOUNTS.c.currency == currency
        )
    ).scalar_one_or_none()
    if sink_id is None:
        raise AccountNotAvailable(f"There is no system account for {currency}.")
    accounts = lock_accounts(s, account_id, sink_id)
    hold = _active(s, hold_id)
    if hold.payment_id is not None:
        raise Conflict("A payment's hold is captured when the payment is approved.")
    amount = hold.amount_minor if amount_minor is None else amount_minor
    if amount > hold.amount_minor:
        raise InvalidInput("You cannot capture more than is held.", field="amount_minor")
    account = free_for_capture(accounts[account_id], hold.amount_minor)
    tx_id = move(
        s,
        account,
        accounts[sink_id],
        amount,
        kind=TX_WITHDRAWAL,
        description=f"Capture of hold #{hold_id}",
        actor_id=actor_id,
        reference=f"HOLD-{hold_id}",
    )
    capture_locked(s, hold_id, amount, actor_id=actor_id, transaction_id=tx_id)
    return amount, tx_id


def free_for_capture(account: LockedAccount, held_minor: int) -> LockedAccount:
    """The locked account as a posting sees it once a hold of ``held_minor`` is taken off
    (the hold itself is marked by ``capture_locked`` after the posting)."""
    return replace(account, held_minor=account.held_minor - held_minor)


def _account_of(s: Session, hold_id: int) -> int:
    account_id = s.execute(
        sa.select(HOLDS.c.account_id).where(HOLDS.c.id == hold_id)
    ).scalar_one_or_none()
    if account_id is None:
        raise NotFound("No such hold.")
    return int(account_id)


def expire_due(*, now: datetime | None = None) -> int:
    """Expire the active holds whose time has passed (payments' holds end with their
    payment, which expires by its own job); return how many."""
    now = now or utcnow()
    due = (
        session()
        .execute(
            sa.select(HOLDS.c.id, HOLDS.c.account_id)
            .where(
                HOLDS.c.status == HOLD_ACTIVE,
                HOLDS.c.expires_at <= now,
                HOLDS.c.payment_id.is_(None),
            )
            .order_by(HOLDS.c.account_id, HOLDS.c.id)
        )
        .all()
    )
    expired = 0
    for hold_id, account_id in due:
        with write_transaction() as s:
            lock_accounts(s, account_id)
            hold = s.execute(sa.select(HOLDS.c.status).where(HOLDS.c.id == hold_id)).scalar_one()
            if hold != HOLD_ACTIVE:
                continue
            release_locked(s, hold_id, actor_id=None, status=HOLD_EXPIRED)
            expired += 1
    return expired
