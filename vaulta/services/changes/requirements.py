"""What deciding a change request requires now: its stored requirements made stricter by
the policy now in force, and whether a given person may decide its next level.

The stored requirements (levels, roles per level, step-up levels, bulk) are those of the
policy that applied at submission. At each decision the policies are evaluated again;
more levels, or step-up at more levels, are adopted (and recorded by the decision);
nothing is ever relaxed for a request already made.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import ChangeDecision, ChangeRequest, User
from vaulta.models.change_request import CR_PENDING
from vaulta.services import audit
from vaulta.services.changes import policies
from vaulta.services.errors import Conflict, Forbidden
from vaulta.services.identity import permissions

DECIDE = "requests.decide"


@dataclass(frozen=True)
class Requirements:
    """A request's requirements as they are now; ``changed`` when stricter than stored."""

    policy_id: int | None
    policy_version: int | None
    levels: int
    roles_per_level: list[list[str]]
    step_up_levels: list[int]
    bulk_allowed: bool
    changed: bool

    def roles_at(self, level: int) -> list[str]:
        roles = self.roles_per_level or policies.FALLBACK_ROLES
        return list(roles[min(level, len(roles)) - 1])


def stored(request: ChangeRequest) -> Requirements:
    return Requirements(
        policy_id=request.policy_id,
        policy_version=request.policy_version,
        levels=request.levels_required,
        roles_per_level=[list(r) for r in request.roles_per_level or []],
        step_up_levels=sorted(request.step_up_levels or []),
        bulk_allowed=request.bulk_allowed,
        changed=False,
    )


def now_in_force(s: Session, request: ChangeRequest) -> Requirements:
    """The stored requirements, made stricter by the policy now in force (no write)."""
    before = stored(request)
    outcome = policies.evaluate(s, request.action, request)
    found = before
    if outcome.levels > before.levels:
        found = Requirements(
            policy_id=outcome.policy_id,
            policy_version=outcome.version,
            levels=outcome.levels,
            roles_per_level=outcome.roles_per_level,
            step_up_levels=before.step_up_levels,
            bulk_allowed=before.bulk_allowed,
            changed=True,
        )
    step_up = sorted(set(found.step_up_levels) | set(outcome.step_up_levels))
    bulk = found.bulk_allowed and outcome.bulk_allowed
    if step_up != found.step_up_levels or bulk != found.bulk_allowed:
        found = Requirements(
            policy_id=outcome.policy_id if outcome.levels >= before.levels else found.policy_id,
            policy_version=outcome.version
            if outcome.levels >= before.levels
            else found.policy_version,
            levels=found.levels,
            roles_per_level=found.roles_per_level,
            step_up_levels=step_up,
            bulk_allowed=bulk,
            changed=True,
        )
    return found


def adopt(request: ChangeRequest, found: Requirements) -> None:
    """Write ``found`` onto the request (inside the caller's write transaction)."""
    request.policy_id = found.policy_id
    request.policy_version = found.policy_version
    request.levels_required = found.levels
    request.roles_per_level = found.roles_per_level
    request.step_up_levels = found.step_up_levels
    request.bulk_allowed = found.bulk_allowed


def check_decider(s: Session, request: ChangeRequest, actor: User, found: Requirements) -> None:
    """Forbidden or Conflict unless ``actor`` may decide the request's next level."""
    permissions.require(actor, DECIDE, "Only approvers decide requests.")
    if request.maker_id == audit.actor_id(actor):
        raise Forbidden("Four eyes: you made this request, so someone else must decide it.")
    before = s.scalar(
        sa.select(ChangeDecision.level).where(
            ChangeDecision.request_id == request.id,
            ChangeDecision.decider_id == audit.actor_id(actor),
        )
    )
    if before is not None:
        raise Conflict(f"You already decided change request #{request.id} (level {before}).")
    allowed = found.roles_at(request.next_level)
    if not permissions.roles_of(actor) & set(allowed):
        raise Forbidden(
            f"Level {request.next_level} of this request is for {', '.join(allowed)} only."
        )


def step_up_at_next_level(request: ChangeRequest, found: Requirements) -> bool:
    return request.status == CR_PENDING and request.next_level in found.step_up_levels
