"""Approval policies' versions: every edit inserts the next version of a name and makes it
the current one; the defaults the migration seeds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ApprovalPolicy
from vaulta.models.change_request import POLICY_ANY_ACTION, POLICY_MONEY_ACTIONS
from vaulta.models.user import STAFF_APPROVER

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


# The defaults the migrations 310f1db5fa66 and 51a90ed518e2 seed (kept equal to them:
# tests/databases.py puts them back after emptying a PostgreSQL test database).
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
        # A customer converting between their own accounts (seeded by 9d25696635aa).
        "name": "conversions",
        "description": "A customer converting between their own accounts: "
        "executes at once (their own money).",
        "action": "ledger.conversion",
        "priority": 0,
        "levels": 0,
        "roles_per_level": [],
    },
    {
        "name": "hold-release",
        "description": "Releasing a hold (it frees a customer's money): one approver, "
        "one request at a time (never in bulk).",
        "action": "ledger.hold.release",
        "priority": 10,
        "levels": 1,
        "roles_per_level": [[STAFF_APPROVER]],
        "step_up_levels": [],
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
    },  # Seeded by 51a90ed518e2 (an account's overdraft limit lets it owe the bank money).
    {
        "name": "overdraft-limits",
        "description": "A change to an account's overdraft limit: two approvers.",
        "action": "account.overdraft",
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
