"""The cumulative amounts policies compare: per customer (or maker, or beneficiary), the
money requests created within the policy's window that are pending or approved, plus
(by customer or maker) the customers' payments pending approval or executed, the request
or payment being evaluated included once.

``totals`` answers for many requests or payments with a fixed number of statements: one
grouped sum over change requests, one over payments, and one each to learn which of the
evaluated rows are already inside those sums.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, ApprovalPolicy, ChangeRequest, Payment
from vaulta.models.change_request import (
    CR_APPROVED,
    CR_PENDING,
    POLICY_ANY_ACTION,
    POLICY_MONEY_ACTIONS,
)
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_PENDING

if TYPE_CHECKING:
    from vaulta.services.changes.policies import Facts

PAYMENT_ACTION = "payments.payment"
_REQUEST_KEYS = {
    "customer": ChangeRequest.customer_id,
    "maker": ChangeRequest.maker_id,
    "beneficiary": ChangeRequest.beneficiary,
}
_PAYMENT_KEYS: dict[str, Any] = {
    "customer": Account.customer_id,
    "maker": Payment.requested_by_id,
}


def _key(facts: Facts, by: str) -> Any:
    return {"customer": facts.customer_id, "maker": facts.maker_id}.get(by, facts.beneficiary)


def totals(s: Session, policy: ApprovalPolicy, facts: list[Facts], now: datetime) -> dict[int, int]:
    """The policy's cumulative amount for each of ``facts`` (by index) that has an amount."""
    by = policy.cumulative_by or "customer"
    since = now - timedelta(hours=policy.cumulative_window_hours or 0)
    keys = {_key(f, by) for f in facts if f.amount_minor is not None} - {None}
    requests, counted_requests = _request_sums(s, policy, by, keys, since, facts)
    payments, counted_payments = _payment_sums(s, policy, by, keys, since, facts)
    found: dict[int, int] = {}
    for index, one in enumerate(facts):
        if one.amount_minor is None:
            continue
        key = _key(one, by)
        if key is None:
            found[index] = one.amount_minor  # nothing to add it to: only itself counts
            continue
        total = requests.get(key, 0) + payments.get(key, 0) + one.amount_minor
        if one.request_id in counted_requests or one.payment_id in counted_payments:
            total -= one.amount_minor  # already in the sums
        found[index] = total
    return found


def _counts_payments(policy: ApprovalPolicy, by: str) -> bool:
    """Whether the payments table's sum applies (then payments' own change requests are
    left out of the requests' sum: each payment counts once)."""
    return by in _PAYMENT_KEYS and policy.action in (
        POLICY_ANY_ACTION,
        POLICY_MONEY_ACTIONS,
        PAYMENT_ACTION,
    )


def _request_sums(
    s: Session,
    policy: ApprovalPolicy,
    by: str,
    keys: set[Any],
    since: datetime,
    facts: list[Facts],
) -> tuple[dict[Any, int], set[int]]:
    column = _REQUEST_KEYS[by]
    where = [
        ChangeRequest.amount_minor.is_not(None),
        ChangeRequest.status.in_((CR_PENDING, CR_APPROVED)),
        ChangeRequest.created_at >= since,
    ]
    if policy.currency is not None:
        where.append(ChangeRequest.currency == policy.currency)
    if policy.action not in (POLICY_ANY_ACTION, POLICY_MONEY_ACTIONS):
        where.append(ChangeRequest.action == policy.action)
    if _counts_payments(policy, by):  # a payment's own request: counted as the payment
        where.append(ChangeRequest.action != PAYMENT_ACTION)
    sums: dict[Any, int] = {}
    if keys:
        rows = s.execute(
            sa.select(column, sa.func.sum(ChangeRequest.amount_minor))
            .where(column.in_(keys), *where)
            .group_by(column)
        )
        sums = {key: int(total or 0) for key, total in rows}
    ids = {f.request_id for f in facts if f.request_id is not None}
    counted: set[int] = set()
    if ids:
        counted = set(
            s.scalars(sa.select(ChangeRequest.id).where(ChangeRequest.id.in_(ids), *where))
        )
    return sums, counted


def _payment_sums(
    s: Session,
    policy: ApprovalPolicy,
    by: str,
    keys: set[Any],
    since: datetime,
    facts: list[Facts],
) -> tuple[dict[Any, int], set[int]]:
    if not _counts_payments(policy, by):
        return {}, set()
    column = _PAYMENT_KEYS[by]
    where = [
        Payment.status.in_((PAYMENT_PENDING, PAYMENT_EXECUTED)),
        Payment.created_at >= since,
    ]
    if policy.currency is not None:
        where.append(Payment.currency == policy.currency)
    sums: dict[Any, int] = {}
    if keys:
        rows = s.execute(
            sa.select(column, sa.func.sum(Payment.amount_minor))
            .select_from(Payment)
            .join(Account, Account.id == Payment.from_account_id)
            .where(column.in_(keys), *where)
            .group_by(column)
        )
        sums = {key: int(total or 0) for key, total in rows}
    ids = {f.payment_id for f in facts if f.payment_id is not None}
    counted: set[int] = set()
    if ids:
        counted = set(s.scalars(sa.select(Payment.id).where(Payment.id.in_(ids), *where)))
    return sums, counted
