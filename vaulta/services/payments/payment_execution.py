"""Executing payments exactly once: the lock or claim, the posting, what a refusal records.

One payment (``approvals.approve``): one ``SELECT … FOR UPDATE`` finds it approvable
(pending, not expired, not entered by the approver: four eyes; below the step-up
threshold unless a code was checked) and locks it together with both its accounts. The
ledger checks and posts it, and the payment becomes executed in the posting's own
statement (see ``ledger.writes``), or it is marked failed with nothing posted.

Many payments (``bulk_decisions``): one conditional ``UPDATE … WHERE status =
'pending_approval'`` (``claim_statement``) claims them all and returns what executing
them needs; their accounts are then locked and posted in one batch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, Hold, Payment, Transaction, utcnow
from vaulta.models.account import KIND_SYSTEM
from vaulta.models.hold import HOLD_ACTIVE
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_FAILED, PAYMENT_PENDING
from vaulta.models.transaction import TX_PAYMENT
from vaulta.services import audit, events, ledger
from vaulta.services.errors import AccountNotAvailable, DomainError, InsufficientFunds, InvalidInput
from vaulta.services.ledger.writes import RESERVE_TRANSACTION_ID, FollowUp
from vaulta.services.payments import daily_limit, payment_holds
from vaulta.services.unit_of_work import write_transaction

# Test-only (tests/scaleout): seconds to hold the execution transaction open before commit,
# from this config key or the environment variable of the same name with a VAULTA_ prefix.
# Honoured only when the app runs with TESTING (the testing config); never in production.
TEST_EXECUTION_DELAY = "TEST_EXECUTION_DELAY_SECONDS"

PAYMENTS = Payment.__table__
CLAIMED = (
    PAYMENTS.c.from_account_id,
    PAYMENTS.c.beneficiary_account_id,
    PAYMENTS.c.beneficiary_name,
    PAYMENTS.c.beneficiary_iban,
    PAYMENTS.c.amount_minor,
    PAYMENTS.c.currency,
    PAYMENTS.c.reference,
)


@dataclass(frozen=True)
class Decision:
    """What approving one payment did: its new status, and the transaction it posted or
    the reason it failed. Views that show the payment read it (``payments.get``)."""

    id: int
    status: str
    transaction_id: int | None = None
    failure_reason: str | None = None
    levels_approved: int | None = None  # a level short of the last: still pending
    levels_required: int | None = None


def claim_statement(which: sa.ColumnElement[bool]) -> sa.Update:
    """The claim of the payments ``which`` selects: one conditional update that moves an
    approvable payment to executed (pending, not expired, not entered by the approver:
    four eyes) and returns what executing it needs. Bound parameters: now, actor_id."""
    return (
        sa.update(PAYMENTS)
        .where(
            which,
            PAYMENTS.c.status == PAYMENT_PENDING,
            PAYMENTS.c.expires_at > sa.bindparam("now"),
            PAYMENTS.c.requested_by_id != sa.bindparam("actor_id"),  # four eyes
        )
        .values(
            status=PAYMENT_EXECUTED,
            admin_approved_by=sa.bindparam("actor_id"),
            approved_at=sa.bindparam("now"),
            updated_at=sa.bindparam("now"),
        )
        .returning(PAYMENTS.c.id, *CLAIMED)
    )


ACCOUNTS = Account.__table__
_SYSTEM = ACCOUNTS.alias("system_account")
# The account an external payment (no beneficiary account) credits: its currency's system account.
_DESTINATION = sa.func.coalesce(
    PAYMENTS.c.beneficiary_account_id,
    sa.select(_SYSTEM.c.id)
    .where(_SYSTEM.c.kind == KIND_SYSTEM, _SYSTEM.c.currency == PAYMENTS.c.currency)
    .scalar_subquery(),
)
CUSTOMERS = Customer.__table__
HOLDS = Hold.__table__
# One statement finds an approvable payment and locks it with both its accounts: one row
# per account, accounts in ascending id order (the order every posting locks them in).
# A concurrent approver waits on the payment's lock, then finds it no longer pending.
# On PostgreSQL it also reserves the id of the transaction that will post it. Read with
# them (not locked: the accounts' locks guard holds and limits): each account's customer
# and daily limit, and the payment's active hold (a unique payment_id: at most one).
LOCKED_TABLES = (PAYMENTS, ACCOUNTS)
_LOCK = (
    sa.select(
        *CLAIMED,
        ACCOUNTS.c.id.label("account_id"),
        ACCOUNTS.c.number.label("account_number"),
        ACCOUNTS.c.kind.label("account_kind"),
        ACCOUNTS.c.currency.label("account_currency"),
        ACCOUNTS.c.status.label("account_status"),
        ACCOUNTS.c.balance_minor.label("account_balance_minor"),
        ACCOUNTS.c.overdraft_limit_minor.label("account_overdraft_limit_minor"),
        ACCOUNTS.c.held_minor.label("account_held_minor"),
        ACCOUNTS.c.customer_id.label("account_customer_id"),
        CUSTOMERS.c.daily_outgoing_limit_minor.label("account_daily_limit_minor"),
        HOLDS.c.id.label("hold_id"),
        HOLDS.c.amount_minor.label("hold_amount_minor"),
        HOLDS.c.reason.label("hold_reason"),
        HOLDS.c.expires_at.label("hold_expires_at"),
        RESERVE_TRANSACTION_ID.label("transaction_id"),
    )
    .join_from(PAYMENTS, ACCOUNTS, ACCOUNTS.c.id.in_([PAYMENTS.c.from_account_id, _DESTINATION]))
    .outerjoin(CUSTOMERS, CUSTOMERS.c.id == ACCOUNTS.c.customer_id)
    .outerjoin(HOLDS, sa.and_(HOLDS.c.payment_id == PAYMENTS.c.id, HOLDS.c.status == HOLD_ACTIVE))
    .where(
        PAYMENTS.c.id == sa.bindparam("payment_id"),
        PAYMENTS.c.status == PAYMENT_PENDING,
        PAYMENTS.c.expires_at > sa.bindparam("now"),
        PAYMENTS.c.requested_by_id != sa.bindparam("approver_id"),  # four eyes
    )
    .order_by(ACCOUNTS.c.id)
    .with_for_update(of=LOCKED_TABLES)
)
LOCK = _LOCK
_LOCK_BELOW = _LOCK.where(PAYMENTS.c.amount_minor < sa.bindparam("below"))
_DECIDED = {
    "admin_approved_by": sa.bindparam("approver_id"),
    "approved_at": sa.bindparam("now"),
    "updated_at": sa.bindparam("now"),
}
# The payment's one update: executed with its transaction (in the posting's statement on
# PostgreSQL, see ledger.writes), or failed with the reason.
_EXECUTED = (
    sa.update(PAYMENTS)
    .where(PAYMENTS.c.id == sa.bindparam("executed_id"))  # not payment_id: a holds column
    .values(status=PAYMENT_EXECUTED, transaction_id=sa.bindparam("new_transaction_id"), **_DECIDED)
)
_FAILED = (
    sa.update(PAYMENTS)
    .where(PAYMENTS.c.id == sa.bindparam("payment_id"))
    .values(
        status=PAYMENT_FAILED,
        failure_reason=sa.bindparam("failure_reason"),
        decided_by_id=sa.bindparam("approver_id"),
        decided_at=sa.bindparam("now"),
        **_DECIDED,
    )
)


def claim_and_execute(payment_id: int, actor_id: int, *, below: int | None) -> Decision | None:
    """Lock the payment if it is still approvable by this admin and execute it.

    None (nothing written) when there is nothing to lock: decided, expired, entered by
    this admin, at or above ``below``, or an external payment whose currency has no system
    account yet. In one write transaction: the lock (one statement), the ledger's checks,
    then the posting with the payment's update (two statements on PostgreSQL), or the
    payment's failure. Nothing is read back: the decision says what was written.
    """
    now = utcnow()
    params = {"payment_id": payment_id, "now": now, "approver_id": actor_id}
    if below is not None:
        params["below"] = below
    with write_transaction(expire_on_commit=False) as s:
        rows = s.connection().execute(_LOCK if below is None else _LOCK_BELOW, params).all()
        if not rows:
            return None
        decision = execute_locked(s, rows, params)
        if decision is None:
            return None  # no system account for its currency yet: nothing was written
        expire_changed(s)
    return decision


def execute_locked(
    s: Session,
    rows: list[sa.Row[Any]],
    params: dict[str, Any],
    also_emit: Callable[[int], list[dict[str, Any]]] | None = None,
) -> Decision | None:
    """Post the payment that ``LOCK`` (``rows``, one per account) locked, or record its
    failure; None (nothing written) for an external payment whose currency has no system
    account yet. ``also_emit(transaction_id)``: more outbox rows to insert with the
    posting's (the change request's decision)."""
    claimed = rows[0]
    accounts = {row.account_id: _locked(row) for row in rows}
    destination = claimed.beneficiary_account_id or next(
        (a for a in accounts if a != claimed.from_account_id), None
    )
    if destination is None:
        return None
    decision = _execute(s, rows, accounts, destination, params, also_emit)
    _test_only_delay()
    return decision


def _locked(row: sa.Row[Any]) -> ledger.LockedAccount:
    return ledger.LockedAccount(
        row.account_id,
        row.account_number,
        row.account_kind,
        row.account_currency,
        row.account_status,
        row.account_balance_minor,
        row.account_overdraft_limit_minor,
        held_minor=row.account_held_minor,
    )


def expire_changed(s: Session) -> None:
    """Expire what an execution may have changed (payments, accounts, transactions).

    The commit that follows keeps the rest loaded (``expire_on_commit=False``): the acting
    admin, customers and users did not change, and reading them again would cost a query.
    """
    for obj in list(s.identity_map.values()):
        if isinstance(obj, Payment | Account | Transaction):
            s.expire(obj)


def _test_only_delay() -> None:
    """Sleep inside the execution transaction when a test asks for it (see above)."""
    if not current_app.testing:
        return
    seconds = current_app.config.get(TEST_EXECUTION_DELAY) or os.environ.get(
        f"VAULTA_{TEST_EXECUTION_DELAY}"
    )
    if seconds:
        time.sleep(float(seconds))


def _execute(
    s: Session,
    rows: list[sa.Row[Any]],
    accounts: dict[int, ledger.LockedAccount],
    destination: int,
    params: dict[str, Any],
    also_emit: Callable[[int], list[dict[str, Any]]] | None = None,
) -> Decision:
    """Post the locked payment with its update, or on refusal record its failure."""
    claimed = rows[0]
    payment_id, actor_id = params["payment_id"], params["approver_id"]
    payer = next(row for row in rows if row.account_id == claimed.from_account_id)
    # Its hold (if any) is taken off the account for the posting: captured with it in the
    # posting's statement, or released when the payment fails.
    hold = _hold_of(payment_id, payer)
    held = {} if hold is None else {payment_id: hold}
    accounts = payment_holds.without_holds(accounts, held.values())
    details: dict[str, object] = {
        "amount_minor": claimed.amount_minor,
        "currency": claimed.currency,
    }
    ended: list[tuple[audit.Event, dict[str, Any]]] = []

    def captured(tx_id: int) -> list[dict[str, Any]]:
        """The hold's ``hold.captured`` outbox row (its audit event kept for later)."""
        if hold is not None:
            ended.append(payment_holds.ended_records(hold, tx_id, actor_id))
        return [row for _, row in ended]

    try:
        daily_limit.check_against(
            s,
            payer.account_customer_id,
            payer.account_daily_limit_minor,
            claimed.currency,
            claimed.amount_minor,
            now=params["now"],
            exclude_payment_id=payment_id,
        )
        tx_id = ledger.move(
            s,
            accounts[claimed.from_account_id],
            accounts[destination],
            claimed.amount_minor,
            kind=TX_PAYMENT,
            description=describe(payment_id, claimed, accounts[destination]),
            actor_id=actor_id,
            reference=f"PAY-{payment_id}",
            also_record=lambda tx_id: audit.Event(
                actor_id,
                "payment.approve",
                "payment",
                payment_id,
                {**details, "transaction_id": tx_id},
            ),
            follow_up=_follow_up(params, hold),
            transaction_id=claimed.transaction_id,
            also_emit=lambda tx_id: [
                events.payment_row(
                    "payment.executed",
                    payment_id,
                    claimed,
                    status=PAYMENT_EXECUTED,
                    transaction_id=tx_id,
                ),
                *(also_emit(tx_id) if also_emit else []),
                *captured(tx_id),
            ],
        )
    except (InsufficientFunds, AccountNotAvailable, InvalidInput) as err:
        s.connection().execute(_FAILED, params | {"failure_reason": err.message})
        audit.record(
            s,
            actor=actor_id,
            action="payment.fail",
            object_type="payment",
            object_id=payment_id,
            details=details | {"reason": err.message},
        )
        events.emit_payment(s, "payment.failed", payment_id, reason=err.message)
        payment_holds.settle_locked(s, held, {payment_id: None}, actor_id=actor_id)
        return Decision(payment_id, PAYMENT_FAILED, failure_reason=err.message)
    audit.record_all(s, [record for record, _ in ended])
    return Decision(payment_id, PAYMENT_EXECUTED, transaction_id=tx_id)


def _hold_of(payment_id: int, payer: sa.Row[Any]) -> payment_holds.PaymentHold | None:
    """The payment's active hold, read with its lock (on the paying account's row)."""
    if payer.hold_id is None:
        return None
    return payment_holds.PaymentHold(
        payment_id,
        payer.hold_id,
        payer.account_id,
        payer.hold_amount_minor,
        payer.account_currency,
        payer.hold_reason,
        payer.hold_expires_at,
        payer.account_number,
    )


def _follow_up(params: dict[str, Any], hold: payment_holds.PaymentHold | None) -> FollowUp:
    """The payment's update, with its hold's capture when it has one."""
    given = params | {"executed_id": params["payment_id"]}
    if hold is None:
        return FollowUp(_EXECUTED, given)
    return FollowUp(
        _EXECUTED,
        given | {"hold_id": hold.id},
        also=(payment_holds.CAPTURE_WITH_POSTING,),
        unheld_minor=hold.amount_minor,
    )


def describe(payment_id: int, claimed: sa.Row[Any], destination: ledger.LockedAccount) -> str:
    """The description of a payment's transaction."""
    if claimed.beneficiary_account_id is not None:
        to = destination.number
    else:
        to = f"{claimed.beneficiary_name} {claimed.beneficiary_iban}"
    return f"Payment #{payment_id} to {to}: {claimed.reference}"[: ledger.DESCRIPTION_MAX]


def failure(err: DomainError, actor_id: int, now: datetime) -> dict[str, object]:
    """A payment's changes when the ledger refused it."""
    return {
        "status": PAYMENT_FAILED,
        "failure_reason": err.message,
        "decided_by_id": actor_id,
        "decided_at": now,
    }
