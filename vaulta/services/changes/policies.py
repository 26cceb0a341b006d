"""Which approval policy applies to a change request, and the policies' versions.

A policy (``ApprovalPolicy``, one current version per name) matches a request when all of
its set conditions hold:

- ``action``: the request's action, ``*`` (any action) or ``money`` (any request that moves
  money, i.e. has an amount);
- ``min_amount_minor`` (with ``currency`` if set): the request's amount is at least that;
- ``currency`` alone: the request is in that currency;
- ``cumulative_*``: the sum of the money requests of the same customer (or maker, or
  beneficiary) created in the last ``cumulative_window_hours`` that are pending or
  approved, this one included, in the policy's currency if it names one (else in any
  currency, minor units added as they are), reaches ``cumulative_threshold_minor``.
  Pending requests count, so splitting an amount into parts cannot stay under it;
- ``account_kind``: the request's account is of that kind.

Of the matching policies the strictest wins: the most levels, then the most step-up
levels, then no bulk over bulk, then the highest ``priority``, then the lowest id. With
no matching policy a request still needs one approver (``approver`` role), never none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ApprovalPolicy, ChangeRequest, utcnow
from vaulta.models.change_request import (
    CR_APPROVED,
    CR_PENDING,
    POLICY_ANY_ACTION,
    POLICY_MONEY_ACTIONS,
)
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes.actions import Prepared

FALLBACK_ROLES: list[list[str]] = [[STAFF_APPROVER]]


@dataclass(frozen=True)
class PolicyOutcome:
    """What the applying policy requires. ``policy_id``/``version`` are None for the
    built-in fallback (no policy matched)."""

    policy_id: int | None
    version: int | None
    levels: int
    roles_per_level: list[list[str]]
    step_up_levels: list[int]
    bulk_allowed: bool
    name: str | None = None

    def roles_at(self, level: int) -> list[str]:
        """The roles allowed to decide ``level`` (1-based); the last list for deeper ones."""
        if not self.roles_per_level:
            return list(FALLBACK_ROLES[0])
        return list(self.roles_per_level[min(level, len(self.roles_per_level)) - 1])


FALLBACK = PolicyOutcome(None, None, 1, FALLBACK_ROLES, [], False)


@dataclass(frozen=True)
class Facts:
    """What a policy's conditions look at, from a Prepared (at submit) or a request."""

    action: str
    amount_minor: int | None
    currency: str | None
    customer_id: int | None
    maker_id: int | None
    beneficiary: str | None
    account_kind: str | None
    request_id: int | None = None  # a stored request: not counted twice in the sum


def facts_of(action: str, subject: Prepared | ChangeRequest, maker_id: int | None) -> Facts:
    if isinstance(subject, ChangeRequest):
        return Facts(
            action=subject.action,
            amount_minor=subject.amount_minor,
            currency=subject.currency,
            customer_id=subject.customer_id,
            maker_id=subject.maker_id,
            beneficiary=subject.beneficiary,
            account_kind=subject.account_kind,
            request_id=subject.id,
        )
    return Facts(
        action=action,
        amount_minor=subject.amount_minor,
        currency=subject.currency,
        customer_id=subject.customer_id,
        maker_id=maker_id,
        beneficiary=subject.beneficiary,
        account_kind=subject.account_kind,
    )


def current_policies(s: Session) -> list[ApprovalPolicy]:
    """Every policy's current version (enabled or not), by name."""
    return list(
        s.scalars(
            sa.select(ApprovalPolicy)
            .where(ApprovalPolicy.is_current.is_(True))
            .order_by(ApprovalPolicy.name)
        )
    )


def policy_history(s: Session, name: str) -> list[ApprovalPolicy]:
    """Every version of the policy ``name``, newest first."""
    return list(
        s.scalars(
            sa.select(ApprovalPolicy)
            .where(ApprovalPolicy.name == name)
            .order_by(ApprovalPolicy.version.desc())
        )
    )


def evaluate(
    s: Session,
    action: str,
    subject: Prepared | ChangeRequest,
    *,
    maker_id: int | None = None,
    now: datetime | None = None,
) -> PolicyOutcome:
    """The outcome of the policies now in force for a request (``subject``: the Prepared
    of a request about to be submitted, with its ``maker_id``, or a stored request)."""
    facts = facts_of(action, subject, maker_id)
    now = now or utcnow()
    best: tuple[Any, ...] | None = None
    chosen: ApprovalPolicy | None = None
    for policy in current_policies(s):
        if not policy.enabled or not _matches(s, policy, facts, now):
            continue
        key = (
            policy.levels,
            len(policy.step_up_levels or []),
            not policy.bulk_allowed,
            policy.priority,
            -policy.id,
        )
        if best is None or key > best:
            best, chosen = key, policy
    if chosen is None:
        return FALLBACK
    return PolicyOutcome(
        policy_id=chosen.id,
        version=chosen.version,
        levels=chosen.levels,
        roles_per_level=[list(roles) for roles in chosen.roles_per_level or []],
        step_up_levels=sorted(set(chosen.step_up_levels or [])),
        bulk_allowed=chosen.bulk_allowed,
        name=chosen.name,
    )


def _action_matches(policy_action: str, facts: Facts) -> bool:
    if policy_action == POLICY_ANY_ACTION:
        return True
    if policy_action == POLICY_MONEY_ACTIONS:
        return facts.amount_minor is not None
    return policy_action == facts.action


def _matches(s: Session, policy: ApprovalPolicy, facts: Facts, now: datetime) -> bool:
    if not _action_matches(policy.action, facts):
        return False
    if policy.account_kind is not None and policy.account_kind != facts.account_kind:
        return False
    if policy.currency is not None and policy.currency != facts.currency:
        return False
    if policy.min_amount_minor is not None and (
        facts.amount_minor is None or facts.amount_minor < policy.min_amount_minor
    ):
        return False
    if policy.cumulative_threshold_minor is not None:
        total = cumulative_amount(s, policy, facts, now)
        if total < policy.cumulative_threshold_minor:
            return False
    return True


def cumulative_amount(s: Session, policy: ApprovalPolicy, facts: Facts, now: datetime) -> int:
    """The sum the policy's cumulative condition compares (this request included)."""
    if facts.amount_minor is None:
        return 0
    column = {
        "customer": (ChangeRequest.customer_id, facts.customer_id),
        "maker": (ChangeRequest.maker_id, facts.maker_id),
        "beneficiary": (ChangeRequest.beneficiary, facts.beneficiary),
    }[policy.cumulative_by or "customer"]
    if column[1] is None:
        return facts.amount_minor  # nothing to add it to: only this request counts
    since = now - timedelta(hours=policy.cumulative_window_hours or 0)
    query = sa.select(sa.func.coalesce(sa.func.sum(ChangeRequest.amount_minor), 0)).where(
        column[0] == column[1],
        ChangeRequest.amount_minor.is_not(None),
        ChangeRequest.status.in_((CR_PENDING, CR_APPROVED)),
        ChangeRequest.created_at >= since,
    )
    if policy.currency is not None:
        query = query.where(ChangeRequest.currency == policy.currency)
    if policy.action not in (POLICY_ANY_ACTION, POLICY_MONEY_ACTIONS):
        query = query.where(ChangeRequest.action == policy.action)
    if facts.request_id is not None:
        query = query.where(ChangeRequest.id != facts.request_id)
    return int(s.scalar(query) or 0) + facts.amount_minor


POLICY_FIELDS = (
    "description",
    "action",
    "priority",
    "enabled",
    "min_amount_minor",
    "currency",
    "cumulative_window_hours",
    "cumulative_threshold_minor",
    "cumulative_by",
    "account_kind",
    "levels",
    "roles_per_level",
    "step_up_levels",
    "bulk_allowed",
)


def policy_fields(policy: ApprovalPolicy) -> dict[str, Any]:
    """A version's settable fields (what a ``policies.update`` request's before/after show)."""
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def install_version(
    s: Session, name: str, fields: dict[str, Any], *, created_by_id: int | None
) -> ApprovalPolicy:
    """Insert the next version of policy ``name`` (version 1 for a new name) inside the
    caller's write transaction and make it the current one. ``fields`` are POLICY_FIELDS
    (those left out keep the current version's value). Checks nothing else: a
    ``policies.update`` change request's prepare validates, its execute calls this.
    """
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValueError(f"unknown policy fields {sorted(unknown)}")
    current = s.scalar(
        sa.select(ApprovalPolicy)
        .where(ApprovalPolicy.name == name, ApprovalPolicy.is_current.is_(True))
        .with_for_update()
    )
    values = policy_fields(current) if current is not None else {}
    values.update(fields)
    version = 1
    if current is not None:
        current.is_current = False
        version = current.version + 1
        s.flush()  # the partial unique index sees one current version at a time
    latest = s.scalar(
        sa.select(sa.func.max(ApprovalPolicy.version)).where(ApprovalPolicy.name == name)
    )
    version = max(version, (latest or 0) + 1)
    policy = ApprovalPolicy(
        name=name, version=version, is_current=True, created_by_id=created_by_id, **values
    )
    s.add(policy)
    s.flush()
    return policy


# The defaults the migration 310f1db5fa66 seeds (kept equal to it: tests/databases.py puts
# them back after emptying a PostgreSQL test database).
LARGE_MINOR = 1_000_000
_TWO = [[STAFF_APPROVER], [STAFF_APPROVER]]
DEFAULT_POLICIES: list[dict[str, Any]] = [
    {
        "name": "default",
        "description": "Every action: one approver other than the maker.",
        "action": POLICY_ANY_ACTION,
        "priority": 0,
        "levels": 1,
        "roles_per_level": [[STAFF_APPROVER]],
        "step_up_levels": [],
        "bulk_allowed": True,
    },
    {
        "name": "money-large",
        "description": "Money movements of 10,000.00 or more: two approvers, step-up at level 2.",
        "action": POLICY_MONEY_ACTIONS,
        "priority": 10,
        "min_amount_minor": LARGE_MINOR,
        "levels": 2,
        "roles_per_level": _TWO,
        "step_up_levels": [2],
        "bulk_allowed": False,
    },
    {
        "name": "money-customer-24h",
        "description": "A customer's money movements reaching 10,000.00 in 24 hours: "
        "two approvers, step-up at level 2.",
        "action": POLICY_MONEY_ACTIONS,
        "priority": 10,
        "cumulative_window_hours": 24,
        "cumulative_threshold_minor": LARGE_MINOR,
        "cumulative_by": "customer",
        "levels": 2,
        "roles_per_level": _TWO,
        "step_up_levels": [2],
        "bulk_allowed": False,
    },
    {
        "name": "policy-changes",
        "description": "A change to the approval policies: two approvers.",
        "action": "policies.update",
        "priority": 10,
        "levels": 2,
        "roles_per_level": _TWO,
        "step_up_levels": [],
        "bulk_allowed": False,
    },
]


def install_defaults(s: Session) -> None:
    """Insert DEFAULT_POLICIES as version 1 (into an empty table), in the caller's
    transaction: for databases emptied without migrations (tests)."""
    for policy in DEFAULT_POLICIES:
        s.add(ApprovalPolicy(version=1, is_current=True, enabled=True, **policy))
    s.flush()
