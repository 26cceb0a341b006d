"""Deciding many payments at once: the approval queue's bulk approve and reject.

Each payment is decided on its own terms (four eyes, expiry, step-up code, funds) and gets
its own result; one whose approval policy allows no bulk approval (or asks for a code) is
left for approval on its own (vaulta/services/payments/payment_policy.py). Approvals that
need nothing but the ledger are executed together, in one transaction: one conditional
update claims them all, their accounts are locked once in ascending id order, and the
ledger posts them in order with one statement per kind of write (``ledger.move_many``),
each checked against the balances the ones before it left. A refused payment is marked
failed, exactly as on its own. Whatever the batch did not claim (decided meanwhile, four
eyes, step-up, expired …) is then tried one by one, which also gives it the right message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import Account, ChangeRequest, Payment, User, utcnow
from vaulta.models.account import KIND_SYSTEM
from vaulta.models.change_request import CR_APPROVED, CR_FAILED, CR_PENDING, DECISION_APPROVE
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_FAILED
from vaulta.models.transaction import TX_PAYMENT
from vaulta.services import audit, events, ledger
from vaulta.services.changes import request_state
from vaulta.services.changes.policies import PAYMENT_ACTION
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.identity import permissions
from vaulta.services.payments import daily_limit, payment_changes, payment_holds
from vaulta.services.payments.approvals import DECIDE, StepUpRequired, approve, reject
from vaulta.services.payments.payment_changes import CR, DECISIONS
from vaulta.services.payments.payment_execution import (
    PAYMENTS,
    Decision,
    claim_statement,
    describe,
    expire_changed,
    failure,
)
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

ON_ITS_OWN = "Needs an approval code: approve it on its own."


_BULK_FACTS = (
    sa.select(
        PAYMENTS.c.id,
        PAYMENTS.c.change_request_id,
        CR.c.levels_required,
        CR.c.levels_approved,
        CR.c.step_up_levels,
        CR.c.bulk_allowed,
        CR.c.roles_per_level,
    )
    .join(CR, CR.c.id == PAYMENTS.c.change_request_id)
    .where(PAYMENTS.c.id.in_(sa.bindparam("ids", expanding=True)))
)


def _plan(payment_ids: list[int], actor: User) -> tuple[dict[int, int], set[int]]:
    """Which payments the batch may approve (id → change request: one level of one, bulk
    allowed, no code, a role ``actor`` holds) and which the policies want approved on
    their own (more levels, no bulk, or a code). The rest (e.g. a payment whose change
    request is not there yet) is tried one by one. One statement."""
    if not payment_ids:
        return {}, set()
    roles = permissions.roles_of(actor)
    batch: dict[int, int] = {}
    single: set[int] = set()
    for row in session().execute(_BULK_FACTS, {"ids": payment_ids}):
        if (
            row.levels_required - row.levels_approved > 1
            or not row.bulk_allowed
            or row.levels_approved + 1 in (row.step_up_levels or [])
        ):
            single.add(row.id)
        elif roles & set(payment_changes.roles_at(row.roles_per_level, row.levels_approved + 1)):
            batch[row.id] = row.change_request_id
    return batch, single


@dataclass(frozen=True)
class RowResult:
    payment_id: int
    ok: bool
    message: str


def decide_many(
    payment_ids: list[int], *, actor: User, action: str, reason: str = ""
) -> list[RowResult]:
    """Approve or reject each payment on its own; one result per row, in the given order."""
    if action not in ("approve", "reject"):
        raise InvalidInput("Choose approve or reject.", field="action")
    if action == "reject" and not " ".join((reason or "").split()):
        raise InvalidInput("Give the customer a reason for the rejection.", field="reason")
    if action == "reject" and (problem := display_problem(reason)):
        raise InvalidInput(problem, field="reason")
    ids = list(dict.fromkeys(payment_ids))
    batch: dict[int, Payment] = {}
    single: set[int] = set()
    if action == "approve":
        eligible, single = _plan(ids, actor)
        batch = execute_batch(list(eligible), actor=actor)
    results = []
    for pid in ids:
        done = batch.get(pid)
        if done is not None:
            results.append(_result(done))
            continue
        if pid in single:
            results.append(RowResult(pid, False, ON_ITS_OWN))
            continue
        try:
            if action == "approve":
                done = approve(pid, actor=actor, send_code=False)
            else:
                done = reject(pid, actor=actor, reason=reason)
        except StepUpRequired:
            results.append(RowResult(pid, False, ON_ITS_OWN))
        except DomainError as err:
            results.append(RowResult(pid, False, err.message))
        else:
            results.append(_result(done))
    return results


def _result(done: Payment | Decision) -> RowResult:
    message = done.status.replace("_", " ")
    if done.failure_reason:
        message += f": {done.failure_reason}"
    return RowResult(done.id, done.status != PAYMENT_FAILED, message)


# The batch claim: the single claim for many ids at once, below the step-up threshold.
# Payment rows are locked in index (id) order.
_CLAIM_MANY = (
    claim_statement(PAYMENTS.c.id.in_(sa.bindparam("payment_ids", expanding=True)))
    .where(PAYMENTS.c.amount_minor < sa.bindparam("below"))
    .returning(PAYMENTS.c.change_request_id)
)
# Their change requests: approved at level 1 of 1 with the batch's transactions.
_CR_APPROVED = (
    sa.update(CR)
    .where(
        CR.c.id == sa.bindparam("request_id"),
        CR.c.status == CR_PENDING,
        CR.c.levels_approved == 0,
        CR.c.levels_required == 1,
    )
    .values(
        status=sa.bindparam("cr_status"),
        levels_approved=1,
        decided_at=sa.bindparam("decided_at"),
        result=sa.bindparam("result", type_=sa.JSON),
        failure_reason=sa.bindparam("failure_reason"),
    )
)
_SYSTEM_ACCOUNTS = sa.select(Account.currency, Account.id).where(
    Account.kind == KIND_SYSTEM, Account.currency.in_(sa.bindparam("currencies", expanding=True))
)
_SET_TRANSACTION = (
    sa.update(PAYMENTS)
    .where(PAYMENTS.c.id == sa.bindparam("payment_id"))
    .values(transaction_id=sa.bindparam("transaction_id"))
)
_SET_FAILED = (
    sa.update(PAYMENTS)
    .where(PAYMENTS.c.id == sa.bindparam("payment_id"))
    .values(
        status=sa.bindparam("status"),
        failure_reason=sa.bindparam("failure_reason"),
        decided_by_id=sa.bindparam("decided_by_id"),
        decided_at=sa.bindparam("decided_at"),
    )
)


class _MissingSystemAccount(Exception):
    """An external payment's currency has no system account yet: undo the batch."""


def execute_batch(payment_ids: list[int], *, actor: User) -> dict[int, Payment]:
    """Execute, in one transaction, every payment of ``payment_ids`` that needs only the
    ledger (pending, not expired, not entered by ``actor``, below the step-up threshold).

    Returns the payments it decided (executed, or failed when the ledger refused them);
    the others are untouched.
    """
    permissions.require(actor, DECIDE, "Only approvers decide payments.")
    actor_id = audit.actor_id(actor)
    if not payment_ids or actor_id is None:
        return {}
    now = utcnow()
    params = {
        "payment_ids": sorted(payment_ids),
        "now": now,
        "actor_id": actor_id,
        "below": current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"],
    }
    try:
        with write_transaction(expire_on_commit=False) as s:
            claimed = s.connection().execute(_CLAIM_MANY, params).all()
            if not claimed:
                return {}
            if any(row.change_request_id is None for row in claimed):
                raise _MissingSystemAccount  # undo: those are decided one by one
            outcomes = _post(s, sorted(claimed, key=lambda row: row.id), actor_id, now)
            _decide_requests(s, claimed, outcomes, actor_id, now)
            expire_changed(s)
            ids = [row.id for row in claimed]
            decided = s.scalars(
                sa.select(Payment).where(Payment.id.in_(ids)),
                execution_options={"populate_existing": True},
            )
            return {payment.id: payment for payment in decided}
    except _MissingSystemAccount:
        return {}


def _decide_requests(
    s: Session,
    claimed: list[sa.Row[Any]],
    outcomes: dict[int, int | DomainError],
    actor_id: int,
    now: datetime,
) -> None:
    """The claimed payments' change requests: a decision each (level 1), approved with the
    transaction (or failed with the reason), audited; one statement per kind of write."""
    conn = s.connection()
    conn.execute(
        sa.insert(DECISIONS),
        [
            {
                "request_id": row.change_request_id,
                "level": 1,
                "decider_id": actor_id,
                "decision": DECISION_APPROVE,
                "reason": None,
                "step_up_used": False,
                "policy_version": None,
                "decided_at": now,
            }
            for row in claimed
        ],
    )
    updates = []
    audits = []
    for row in claimed:
        outcome = outcomes[row.id]
        failed = isinstance(outcome, DomainError)
        result = None if failed else {"payment_id": row.id, "transaction_id": outcome}
        updates.append(
            {
                "request_id": row.change_request_id,
                "cr_status": CR_FAILED if failed else CR_APPROVED,
                "decided_at": now,
                "result": result,
                "failure_reason": outcome.message if isinstance(outcome, DomainError) else None,
            }
        )
        details = {"action": PAYMENT_ACTION, "payment_id": row.id, "level": 1, "bulk": True}
        for what in ("approve", "fail" if failed else "execute"):
            audits.append(
                audit.Event(
                    actor_id,
                    f"change_request.{what}",
                    "change_request",
                    row.change_request_id,
                    details,
                )
            )
    moved = conn.execute(_CR_APPROVED, updates)
    if moved.rowcount not in (-1, len(updates)):
        raise _MissingSystemAccount  # a request moved meanwhile: undo, decide one by one
    audit.record_all(s, audits)
    decided = s.scalars(
        sa.select(ChangeRequest)
        .where(ChangeRequest.id.in_([row.change_request_id for row in claimed]))
        .execution_options(populate_existing=True)
    )
    outbox = [
        events.event_row(
            "change_request.decided", request_state.event_data(r, decision=DECISION_APPROVE)
        )
        for r in decided
    ]
    events.emit_rows(s, conn, outbox)


def _post(
    s: Session, claimed: list[sa.Row[Any]], actor_id: int, now: datetime
) -> dict[int, int | DomainError]:
    """Post the claimed payments in id order; mark the refused ones failed. Returns each
    payment's transaction id or refusal."""
    conn = s.connection()
    external = sorted({row.currency for row in claimed if row.beneficiary_account_id is None})
    system = (
        dict(conn.execute(_SYSTEM_ACCOUNTS, {"currencies": external}).all()) if external else {}
    )
    if len(system) != len(external):
        raise _MissingSystemAccount
    destinations = [row.beneficiary_account_id or system[row.currency] for row in claimed]
    accounts = ledger.lock_accounts(s, *(row.from_account_id for row in claimed), *destinations)
    over_limit: dict[int, DomainError] = dict(
        daily_limit.over_limit_many(s, [row.id for row in claimed], now=now)
    )
    posted = [
        (row, destination)
        for row, destination in zip(claimed, destinations, strict=True)
        if row.id not in over_limit
    ]
    # The payments' holds are taken off for their postings, then captured or released.
    held = payment_holds.active(s, [row.id for row in claimed])
    accounts = payment_holds.without_holds(accounts, held.values())
    moves = [
        ledger.Move(
            debit_account_id=row.from_account_id,
            credit_account_id=destination,
            amount_minor=row.amount_minor,
            kind=TX_PAYMENT,
            description=describe(row.id, row, accounts[destination]),
            reference=f"PAY-{row.id}",
        )
        for row, destination in posted
    ]

    def approved(index: int, tx_id: int) -> audit.Event:
        row = posted[index][0]
        details = {"amount_minor": row.amount_minor, "currency": row.currency}
        return audit.Event(
            actor_id, "payment.approve", "payment", row.id, details | {"transaction_id": tx_id}
        )

    moved = iter(ledger.move_many(s, accounts, moves, actor_id=actor_id, also_record=approved))
    outcomes = [over_limit.get(row.id) or next(moved) for row in claimed]
    executed, failed, audits, outbox = [], [], [], []
    for row, outcome in zip(claimed, outcomes, strict=True):
        outbox.append(_payment_event(row, outcome))
        if isinstance(outcome, DomainError):
            failed.append({"payment_id": row.id} | failure(outcome, actor_id, now))
            details = {"amount_minor": row.amount_minor, "currency": row.currency}
            audits.append(
                audit.Event(
                    actor_id,
                    "payment.fail",
                    "payment",
                    row.id,
                    details | {"reason": outcome.message},
                )
            )
        else:
            executed.append({"payment_id": row.id, "transaction_id": outcome})
    if executed:
        conn.execute(_SET_TRANSACTION, executed)
    if failed:
        conn.execute(_SET_FAILED, failed)
        audit.record_all(s, audits)
    events.emit_rows(s, conn, outbox)
    payment_holds.settle_locked(
        s,
        held,
        {
            row.id: None if isinstance(outcome, DomainError) else outcome
            for row, outcome in zip(claimed, outcomes, strict=True)
        },
        actor_id=actor_id,
    )
    return {row.id: outcome for row, outcome in zip(claimed, outcomes, strict=True)}


def _payment_event(row: sa.Row[Any], outcome: int | DomainError) -> dict[str, object]:
    """The outbox row of a batch-decided payment: executed, or failed with the reason."""
    if isinstance(outcome, DomainError):
        return events.payment_row(
            "payment.failed", row.id, row, status=PAYMENT_FAILED, reason=outcome.message
        )
    return events.payment_row(
        "payment.executed", row.id, row, status=PAYMENT_EXECUTED, transaction_id=outcome
    )
