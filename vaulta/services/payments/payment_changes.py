"""Payments decided as change requests (action ``payments.payment``), with real levels.

A payment that reaches the approval stage gets its change request in the same
transaction (``open_request``): the policy in force is evaluated once, then (levels,
roles per level, step-up levels, bulk) and stored on the request, with the payment's
amount, currency, customer and beneficiary, so the cumulative 24-hour rules count it.
``payments.change_request_id`` points at it; its ``dedupe_key`` names the payment.

Deciding (``approve_payment``/``reject_payment``; the approval queue, the API and the
checker inbox all come here, see vaulta/services/changes/payment_action.py) is one
write transaction: one ``SELECT … FOR UPDATE`` locks the payment, its accounts and its
change request, and says whether this person decided it before and whether a policy
changed since the request was made (only then are the policies evaluated again, and
only a stricter outcome is adopted). A level short of the last records the decision and
leaves the payment pending; the last level executes the payment exactly once through
``payment_execution`` and stores the transaction id as the request's result.

Step-up: at the levels the policy names, and at the last level when the amount reaches
APPROVAL_STEP_UP_THRESHOLD_MINOR (as before; that level is stored among the request's
step-up levels too, so the inbox and the API say so, and checked again at the decision).
The code is the payment's (``otp.PAYMENT_APPROVE``, subject the payment id), wherever it is
asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from vaulta.models import (
    Account,
    ApprovalPolicy,
    ChangeDecision,
    ChangeRequest,
    Payment,
    User,
    utcnow,
)
from vaulta.models.change_request import (
    CR_APPROVED,
    CR_CANCELLED,
    CR_EXPIRED,
    CR_FAILED,
    CR_PENDING,
    CR_REJECTED,
    DECISION_APPROVE,
    DECISION_REJECT,
)
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_PENDING, PAYMENT_REJECTED
from vaulta.services import audit, events
from vaulta.services.changes import policies
from vaulta.services.changes import request_state as cr_state
from vaulta.services.changes.policies import PAYMENT_ACTION, Facts
from vaulta.services.errors import Conflict, Forbidden, NotFound
from vaulta.services.events.payloads import ChangeRequestData
from vaulta.services.identity import permissions
from vaulta.services.payments import payment_execution, payment_holds
from vaulta.services.payments.payment_execution import Decision
from vaulta.services.unit_of_work import session, write_transaction

TARGET = "payment"
CR = ChangeRequest.__table__
DECISIONS = ChangeDecision.__table__
PAYMENTS = Payment.__table__
_POLICIES = ApprovalPolicy.__table__


def dedupe_key(payment_id: int) -> str:
    return f"{PAYMENT_ACTION}:{payment_id}"


_FACTS = (
    sa.select(
        PAYMENTS.c.id,
        PAYMENTS.c.amount_minor,
        PAYMENTS.c.currency,
        PAYMENTS.c.requested_by_id,
        PAYMENTS.c.beneficiary_iban,
        PAYMENTS.c.beneficiary_name,
        PAYMENTS.c.expires_at,
        PAYMENTS.c.change_request_id,
        Account.customer_id,
        Account.kind,
        Account.number,
    )
    .join(Account, Account.id == PAYMENTS.c.from_account_id)
    .where(PAYMENTS.c.id == sa.bindparam("payment_id"))
)


def open_request(s: Session, payment_id: int, *, now: datetime) -> int:
    """Create the payment's change request in the caller's transaction ``s`` (the one
    that moves it to pending approval); return its id. The maker is the requester."""
    row = s.connection().execute(_FACTS, {"payment_id": payment_id}).one()
    facts = Facts(
        action=PAYMENT_ACTION,
        amount_minor=row.amount_minor,
        currency=row.currency,
        customer_id=row.customer_id,
        maker_id=row.requested_by_id,
        beneficiary=row.beneficiary_iban,
        account_kind=row.kind,
        payment_id=row.id,
    )
    outcome = policies.evaluate_facts(s, facts, now=now)
    levels = max(outcome.levels, 1)  # a payment always needs an approver
    step_up = set(outcome.step_up_levels)
    if row.amount_minor >= _threshold():  # the approval that moves it confirms with a code
        step_up.add(levels)
    to = row.beneficiary_iban or "an own account"
    request = ChangeRequest(
        action=PAYMENT_ACTION,
        target_type=TARGET,
        target_id=row.id,
        customer_id=row.customer_id,
        account_kind=row.kind,
        amount_minor=row.amount_minor,
        currency=row.currency,
        beneficiary=row.beneficiary_iban,
        change={
            "before": {"status": PAYMENT_PENDING},
            "after": {"status": PAYMENT_EXECUTED},
            "params": {"payment_id": row.id, "from": row.number},
        },
        summary=f"Payment #{row.id} from {row.number} to {to}"[:200],
        maker_id=row.requested_by_id,
        status=CR_PENDING,
        policy_id=outcome.policy_id,
        policy_version=outcome.version,
        levels_required=levels,
        levels_approved=0,
        roles_per_level=outcome.roles_per_level,
        step_up_levels=sorted(step_up),
        bulk_allowed=outcome.bulk_allowed,
        created_at=now,
        expires_at=row.expires_at,  # they expire together
        dedupe_key=dedupe_key(row.id),
    )
    s.add(request)
    s.flush()
    s.execute(
        sa.update(Payment)
        .where(Payment.id == row.id)
        .values(change_request_id=request.id)
        .execution_options(synchronize_session="evaluate")
    )
    cr_state.record(
        s,
        request,
        row.requested_by_id,
        "submit",
        summary=request.summary,
        amount_minor=request.amount_minor,
        currency=request.currency,
        payment_id=row.id,
    )
    events.emit(s, "change_request.created", cr_state.event_data(request))
    return request.id


def ensure_request(payment_id: int) -> int | None:
    """The payment's change request id; one is opened for a payment that was pending
    approval before payments had them (None when it is not pending approval)."""
    s = session()
    row = s.execute(
        sa.select(PAYMENTS.c.change_request_id, PAYMENTS.c.status).where(
            PAYMENTS.c.id == payment_id
        )
    ).first()
    if row is None:
        raise NotFound("No such payment.")
    if row.change_request_id is not None or row.status != PAYMENT_PENDING:
        return row.change_request_id
    with write_transaction() as ws:
        locked = ws.execute(
            sa.select(PAYMENTS.c.change_request_id, PAYMENTS.c.status)
            .where(PAYMENTS.c.id == payment_id)
            .with_for_update()
        ).one()
        if locked.change_request_id is not None or locked.status != PAYMENT_PENDING:
            return locked.change_request_id
        return open_request(ws, payment_id, now=utcnow())


@dataclass(frozen=True)
class Level:
    """What the payment's next approval is: its level, whether it is the last, the code."""

    request_id: int
    level: int
    levels: int
    step_up: bool

    @property
    def final(self) -> bool:
        return self.level >= self.levels


class NeedsStepUp(Exception):
    """Raised inside the decision's transaction (rolls it back): a code is needed."""


class NotLockable(Exception):
    """The lock found nothing to decide: the caller explains why (or opens the request)."""


_DECIDED_BEFORE = (
    sa.select(DECISIONS.c.level)
    .where(
        DECISIONS.c.request_id == CR.c.id,
        DECISIONS.c.decider_id == sa.bindparam("approver_id"),
    )
    .limit(1)
    .scalar_subquery()
)
# A policy version installed after the request was made: only then evaluate again.
_POLICY_CHANGED = sa.exists().where(
    _POLICIES.c.is_current.is_(True), _POLICIES.c.created_at > CR.c.created_at
)
_CR_COLUMNS = (
    PAYMENTS.c.id.label("payment_id"),
    CR.c.id.label("cr_id"),
    CR.c.customer_id.label("cr_customer_id"),
    CR.c.status.label("cr_status"),
    CR.c.levels_required,
    CR.c.levels_approved,
    CR.c.roles_per_level,
    CR.c.step_up_levels,
    CR.c.bulk_allowed,
    CR.c.policy_id,
    CR.c.policy_version,
    CR.c.expires_at.label("cr_expires_at"),
    _DECIDED_BEFORE.label("decided_before"),
    _POLICY_CHANGED.label("policy_changed"),
)
# The payment, its accounts and its change request, locked in one statement (see
# payment_execution._LOCK; the change request joins on the payment's own column).
_LOCK = (
    payment_execution.LOCK.add_columns(*_CR_COLUMNS)
    .join(CR, CR.c.id == PAYMENTS.c.change_request_id)
    .with_for_update(of=(*payment_execution.LOCKED_TABLES, CR))
)


def roles_at(roles_per_level: list[list[str]] | None, level: int) -> list[str]:
    roles = roles_per_level or policies.FALLBACK_ROLES
    return list(roles[min(level, len(roles)) - 1])


def _threshold() -> int:
    return int(current_app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"])


def _stricter(s: Session, row: Any) -> dict[str, Any]:
    """The policy now in force, if stricter than the stored one: the values to adopt."""
    if not row.policy_changed:
        return {}
    facts = s.connection().execute(_FACTS, {"payment_id": row.payment_id}).one()
    outcome = policies.evaluate_facts(
        s,
        Facts(
            action=PAYMENT_ACTION,
            amount_minor=facts.amount_minor,
            currency=facts.currency,
            customer_id=facts.customer_id,
            maker_id=facts.requested_by_id,
            beneficiary=facts.beneficiary_iban,
            account_kind=facts.kind,
            payment_id=facts.id,
        ),
    )
    adopted: dict[str, Any] = {}
    if outcome.levels > row.levels_required:
        adopted.update(
            levels_required=outcome.levels,
            roles_per_level=outcome.roles_per_level,
            policy_id=outcome.policy_id,
            policy_version=outcome.version,
        )
    step_up = sorted(set(row.step_up_levels or []) | set(outcome.step_up_levels))
    if step_up != sorted(row.step_up_levels or []):
        adopted["step_up_levels"] = step_up
    if row.bulk_allowed and not outcome.bulk_allowed:
        adopted["bulk_allowed"] = False
    return adopted


def next_level(row: Any, actor: User, adopted: dict[str, Any]) -> Level:
    """Check that ``actor`` may decide the request's next level; what that level asks."""
    if row.decided_before is not None:
        raise Conflict(
            f"You already decided payment #{row.payment_id} (level {row.decided_before}): "
            "another approver must decide its next level."
        )
    levels = adopted.get("levels_required", row.levels_required)
    roles = adopted.get("roles_per_level", row.roles_per_level)
    step_up_levels = adopted.get("step_up_levels", row.step_up_levels) or []
    level = row.levels_approved + 1
    allowed = roles_at(roles, level)
    if not permissions.roles_of(actor) & set(allowed):
        raise Forbidden(f"Level {level} of this payment is for {', '.join(allowed)} only.")
    final = level >= levels
    step_up = level in step_up_levels or (final and row.amount_minor >= _threshold())
    return Level(row.cr_id, level, levels, step_up)


def decide(
    payment_id: int,
    actor: User,
    *,
    step_up_used: bool,
    expected_level: int | None = None,
    reason: str | None = None,
) -> tuple[Decision, Level]:
    """Approve the payment's next level in one write transaction (see the module
    docstring). NeedsStepUp (nothing written) when the level asks for a code and none was
    checked; NotLockable when the payment is not there to decide."""
    try:
        return _decide(payment_id, actor, step_up_used, expected_level, reason)
    except sa.exc.IntegrityError:  # the same person deciding two levels at the same moment
        session().rollback()
        raise Conflict(
            f"You already decided payment #{payment_id}: another approver must decide it."
        ) from None


def _decide(
    payment_id: int,
    actor: User,
    step_up_used: bool,
    expected_level: int | None,
    reason: str | None,
) -> tuple[Decision, Level]:
    actor_id = audit.actor_id(actor)
    assert actor_id is not None
    now = utcnow()
    params = {"payment_id": payment_id, "now": now, "approver_id": actor_id}
    with write_transaction(expire_on_commit=False) as s:
        rows = s.connection().execute(_LOCK, params).all()
        if not rows:
            raise NotLockable
        row = rows[0]
        if row.cr_status != CR_PENDING or row.cr_expires_at <= now:
            raise NotLockable
        if expected_level is not None and row.levels_approved != expected_level:
            raise Conflict(f"Payment #{payment_id} was decided by someone else meanwhile.")
        adopted = _stricter(s, row)
        level = next_level(row, actor, adopted)
        if level.step_up and not step_up_used:
            raise NeedsStepUp
        decision_row = {
            "request_id": row.cr_id,
            "level": level.level,
            "decider_id": actor_id,
            "decision": DECISION_APPROVE,
            "reason": reason,
            "step_up_used": step_up_used,
            "policy_version": adopted.get("policy_version", row.policy_version),
            "decided_at": now,
        }
        values: dict[str, Any] = {"levels_approved": level.level, **adopted}
        decided = _Decided(row, level, values)
        if level.final:
            decision = payment_execution.execute_locked(s, rows, params, decided.executed_rows)
            if decision is None:
                raise NotLockable  # no system account for its currency yet
            if decision.status == PAYMENT_EXECUTED:
                values.update(
                    status=CR_APPROVED,
                    decided_at=now,
                    result={"payment_id": payment_id, "transaction_id": decision.transaction_id},
                )
            else:
                values.update(
                    status=CR_FAILED, decided_at=now, failure_reason=decision.failure_reason
                )
                events.emit_rows(s, s.connection(), decided.rows(values, decision.failure_reason))
        else:
            decision = Decision(
                payment_id,
                PAYMENT_PENDING,
                levels_approved=level.level,
                levels_required=level.levels,
            )
            events.emit_rows(s, s.connection(), decided.rows(values, None))
        _move(s, row.cr_id, row.levels_approved, values, decision_row)
        details = {
            "action": PAYMENT_ACTION,
            "policy_id": values.get("policy_id", row.policy_id),
            "policy_version": values.get("policy_version", row.policy_version),
            "levels_required": level.levels,
            "payment_id": payment_id,
        }
        if adopted:
            _audit(s, actor_id, row.cr_id, "policy_raised", details)
        approved = details | {"level": level.level, "step_up": step_up_used}
        _audit(s, actor_id, row.cr_id, "approve", approved)
        if level.final:
            what = "execute" if decision.status == PAYMENT_EXECUTED else "fail"
            outcome = {"result": values.get("result"), "reason": decision.failure_reason}
            _audit(s, actor_id, row.cr_id, what, details | outcome)
        payment_execution.expire_changed(s)
    return decision, level


@dataclass(frozen=True)
class _Decided:
    """The ``change_request.decided`` event of an approval, built from the locked row (no
    read): with the posting's own outbox rows when it executes the payment."""

    row: Any
    level: Level
    values: dict[str, Any]

    def rows(self, values: dict[str, Any], reason: str | None) -> list[dict[str, Any]]:
        row = self.row
        data = ChangeRequestData(
            id=row.cr_id,
            action=PAYMENT_ACTION,
            status=values.get("status", CR_PENDING),
            target_type=TARGET,
            target_id=row.payment_id,
            customer_id=row.cr_customer_id,
            amount_minor=row.amount_minor,
            currency=row.currency,
            levels_required=self.level.levels,
            levels_approved=self.level.level,
            policy_version=values.get("policy_version", row.policy_version),
            result=values.get("result"),
            decision=DECISION_APPROVE,
            reason=reason,
        )
        return [events.event_row("change_request.decided", data)]

    def executed_rows(self, transaction_id: int) -> list[dict[str, Any]]:
        result = {"payment_id": self.row.payment_id, "transaction_id": transaction_id}
        return self.rows(self.values | {"status": CR_APPROVED, "result": result}, None)


def _move(
    s: Session,
    request_id: int,
    expected: int,
    values: dict[str, Any],
    decision_row: dict[str, Any] | None = None,
) -> None:
    """The request's conditional update (pending, at the ``expected`` level, or Conflict),
    with its decision's row: one statement on PostgreSQL (the insert in a ``WITH``)."""
    conn = s.connection()
    update = (
        sa.update(CR)
        .where(CR.c.id == request_id, CR.c.status == CR_PENDING, CR.c.levels_approved == expected)
        .values(**values)
    )
    if decision_row is not None and conn.dialect.name == "postgresql":
        update = update.add_cte(sa.insert(DECISIONS).values(**decision_row).cte("decision"))
    elif decision_row is not None:
        conn.execute(sa.insert(DECISIONS), decision_row)
    moved = conn.execute(update)
    if moved.rowcount != 1:
        raise Conflict("This payment was decided by someone else meanwhile.")


def _audit(
    s: Session, actor_id: int | None, request_id: int, what: str, details: dict[str, Any]
) -> None:
    audit.record(
        s,
        actor=actor_id,
        action=f"change_request.{what}",
        object_type=cr_state.OBJECT,
        object_id=request_id,
        details={k: v for k, v in details.items() if v is not None},
    )


def _emit_decided(s: Session, request_id: int, decision: str, reason: str | None) -> None:
    request = s.get(ChangeRequest, request_id, populate_existing=True)
    assert request is not None
    cr_state.decided(s, request, decision, reason)


def reject_locked(s: Session, payment_id: int, actor: User, reason: str, now: datetime) -> None:
    """Reject the payment and its change request in ``s`` (at its next level, by someone
    who may decide it); Conflict when it is no longer pending."""
    actor_id = audit.actor_id(actor)
    row = s.execute(
        sa.select(PAYMENTS.c.amount_minor, *_CR_COLUMNS)
        .join(CR, CR.c.id == PAYMENTS.c.change_request_id)
        .where(PAYMENTS.c.id == payment_id, PAYMENTS.c.status == PAYMENT_PENDING)
        .with_for_update(),
        {"approver_id": actor_id},
    ).first()
    if row is None or row.cr_status != CR_PENDING:
        raise Conflict(f"Payment #{payment_id} was already decided by someone else.")
    level = next_level(row, actor, {})
    s.execute(
        sa.insert(DECISIONS),
        {
            "request_id": row.cr_id,
            "level": level.level,
            "decider_id": actor_id,
            "decision": DECISION_REJECT,
            "reason": reason,
            "step_up_used": False,
            "policy_version": row.policy_version,
            "decided_at": now,
        },
    )
    _move(s, row.cr_id, row.levels_approved, {"status": CR_REJECTED, "decided_at": now})
    moved = s.execute(
        sa.update(Payment)
        .where(Payment.id == payment_id, Payment.status == PAYMENT_PENDING)
        .values(
            status=PAYMENT_REJECTED,
            rejection_reason=reason,
            decided_by_id=actor_id,
            decided_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise Conflict(f"Payment #{payment_id} was already decided by someone else.")
    payment_holds.release(s, [payment_id], actor_id=actor_id)
    details = {
        "action": PAYMENT_ACTION,
        "policy_id": row.policy_id,
        "policy_version": row.policy_version,
        "levels_required": row.levels_required,
        "payment_id": payment_id,
        "level": level.level,
        "reason": reason,
    }
    _audit(s, actor_id, row.cr_id, "reject", details)
    _emit_decided(s, row.cr_id, DECISION_REJECT, reason)


def end_request(s: Session, payment_ids: list[int], status: str, now: datetime) -> None:
    """The payments' pending change requests end with them (``expired`` or ``cancelled``)."""
    assert status in (CR_EXPIRED, CR_CANCELLED)
    ids = list(
        s.scalars(
            sa.select(CR.c.id)
            .join(PAYMENTS, PAYMENTS.c.change_request_id == CR.c.id)
            .where(PAYMENTS.c.id.in_(payment_ids), CR.c.status == CR_PENDING)
        )
    )
    if not ids:
        return
    s.execute(
        sa.update(CR)
        .where(CR.c.id.in_(ids), CR.c.status == CR_PENDING)
        .values(status=status, decided_at=now)
    )
    what = "expire" if status == CR_EXPIRED else "cancel"
    for request_id in ids:
        _audit(s, None, request_id, what, {"action": PAYMENT_ACTION})
    decided = s.scalars(
        sa.select(ChangeRequest)
        .where(ChangeRequest.id.in_(ids))
        .execution_options(populate_existing=True)
    )
    rows = [
        events.event_row("change_request.decided", cr_state.event_data(r, decision=what))
        for r in decided
    ]
    events.emit_rows(s, s.connection(), rows)


@dataclass(frozen=True)
class Approvals:
    """What the payment's page shows of its change request: the levels and decisions
    (level, decision, reason, decided_at; not who: the customer sees the bank's steps)."""

    levels_required: int
    levels_approved: int
    decisions: list[Any]


def approvals_of(payment: Payment) -> Approvals | None:
    """The payment's change request as its page shows it (None before it had one)."""
    if payment.change_request_id is None:
        return None
    s = session()
    request = s.get(ChangeRequest, payment.change_request_id)
    if request is None:
        return None
    rows = s.execute(
        sa.select(
            DECISIONS.c.level, DECISIONS.c.decision, DECISIONS.c.reason, DECISIONS.c.decided_at
        )
        .where(DECISIONS.c.request_id == request.id)
        .order_by(DECISIONS.c.level)
    ).all()
    return Approvals(request.levels_required, request.levels_approved, list(rows))
