"""Which approval policy applies to a change request, and the policies' versions.

A policy (``ApprovalPolicy``, one current version per name) matches a request when all of
its set conditions hold:

- ``action``: the request's action, ``*`` (any action) or ``money`` (any request that moves
  money, i.e. has an amount);
- ``min_amount_minor`` (with ``currency`` if set): the request's amount is at least that;
- ``currency`` alone: the request is in that currency;
- ``cumulative_*``: the sum of the money requests of the same customer (or maker, or
  beneficiary) created in the last ``cumulative_window_hours`` that are pending or
  approved (and, by customer or maker, the payments pending approval or executed), this
  one included, in the policy's currency if it names one (else in any
  currency, minor units added as they are), reaches ``cumulative_threshold_minor``.
  Pending requests count, so splitting an amount into parts cannot stay under it;
- ``account_kind``: the request's account is of that kind.

When a matching policy names the request's action exactly, only such policies compete: the
generic ones (``*``, ``money``) apply to an action no policy of its own matches. Of the
competing policies the strictest wins: the most levels, then the most step-up levels, then
no bulk over bulk, then the highest ``priority``, then the lowest id. With no matching
policy a request still needs one approver (``approver`` role), never none. Only a
self-service action (``ActionSpec.self_service``: a customer moving their own money between
their own accounts, ``ledger.conversion``) may have a policy of 0 levels
(vaulta/services/changes/policy_actions.py): it executes at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ApprovalPolicy, ChangeRequest, utcnow
from vaulta.models.change_request import (
    POLICY_ANY_ACTION,
    POLICY_MONEY_ACTIONS,
)
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes import cumulative
from vaulta.services.changes.actions import Prepared

# Versions and the seeded defaults are re-exported: callers use ``policies.install_version``.
from vaulta.services.changes.policy_versions import (
    DEFAULT_POLICIES,
    POLICY_FIELDS,
    install_defaults,
    install_version,
    policy_fields,
)

FALLBACK_ROLES: list[list[str]] = [[STAFF_APPROVER]]
# A customer's payment, as policies name it (payments keep their own approval flow; see
# vaulta/services/payments/payment_policy.py).
PAYMENT_ACTION = cumulative.PAYMENT_ACTION


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
    payment_id: int | None = None  # a payment (payments.payment): likewise


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
    return evaluate_facts(s, facts_of(action, subject, maker_id), now=now)


def evaluate_facts(s: Session, facts: Facts, *, now: datetime | None = None) -> PolicyOutcome:
    """The outcome of the policies now in force for ``facts`` (see ``evaluate``)."""
    return evaluate_many(s, [facts], now=now)[0]


def evaluate_many(
    s: Session, facts: list[Facts], *, now: datetime | None = None
) -> list[PolicyOutcome]:
    """The outcome for each of ``facts``, in a number of statements that does not grow
    with their count (the policies once; per cumulative policy, its grouped totals)."""
    now = now or utcnow()
    in_force = [policy for policy in current_policies(s) if policy.enabled]
    totals = {
        policy.id: cumulative.totals(s, policy, facts, now)
        for policy in in_force
        if policy.cumulative_threshold_minor is not None
        and any(_action_matches(policy.action, one) for one in facts)
    }
    return [
        _choose(
            _own_first([p for p in in_force if _matches(p, one, totals.get(p.id, {}).get(i))], one)
        )
        for i, one in enumerate(facts)
    ]


def _own_first(matching: list[ApprovalPolicy], facts: Facts) -> list[ApprovalPolicy]:
    """The matching policies naming the action itself when there are any, else all."""
    own = [policy for policy in matching if policy.action == facts.action]
    return own or matching


def _choose(matching: list[ApprovalPolicy]) -> PolicyOutcome:
    """The strictest of the matching policies (see the module docstring)."""
    if not matching:
        return FALLBACK
    chosen = max(
        matching,
        key=lambda policy: (
            policy.levels,
            len(policy.step_up_levels or []),
            not policy.bulk_allowed,
            policy.priority,
            -policy.id,
        ),
    )
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


def _matches(policy: ApprovalPolicy, facts: Facts, total: int | None) -> bool:
    """Whether every set condition of ``policy`` holds; ``total`` is the cumulative amount."""
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
    threshold = policy.cumulative_threshold_minor
    return threshold is None or (total is not None and total >= threshold)


__all__ = [
    "DEFAULT_POLICIES",
    "FALLBACK",
    "FALLBACK_ROLES",
    "PAYMENT_ACTION",
    "POLICY_FIELDS",
    "Facts",
    "PolicyOutcome",
    "current_policies",
    "evaluate",
    "evaluate_facts",
    "evaluate_many",
    "facts_of",
    "install_defaults",
    "install_version",
    "policy_fields",
    "policy_history",
]
