"""Approval policies as change requests: ``policies.update`` (an admin, ``policies.manage``).

``params``: ``name`` (the policy; a new name starts at version 1), ``base_version`` (the
current version the edit was made from, None for a new name) and ``fields`` (the whole
new version: vaulta/services/changes/policies.py ``POLICY_FIELDS``). Once approved, a new
version is inserted and becomes current (``policies.install_version``); the old ones stay,
so every request keeps the version that applied to it. The seeded ``policy-changes`` policy
asks two approvers for this action.

Rules that keep four eyes on everything, whatever is edited: every policy needs 1 to 3
levels (0 to 3 for a self-service action, ``ledger.conversion``: a customer's own money
between their own accounts), each level names at least one role that may decide requests;
a policy for ``policies.update`` stays enabled, for that action, with at least two levels. A request
fails at its decision if the policy changed meanwhile (its before/after would be stale).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import ApprovalPolicy, User
from vaulta.models.account import ACCOUNT_KINDS
from vaulta.models.change_request import (
    CUMULATIVE_BY,
    MAX_LEVELS,
    POLICY_ANY_ACTION,
    POLICY_MONEY_ACTIONS,
    ChangeRequest,
)
from vaulta.models.user import STAFF_ROLES
from vaulta.money import CURRENCY_EXPONENTS
from vaulta.services import audit
from vaulta.services.changes import policies
from vaulta.services.changes.actions import ACTIONS, ActionSpec, Prepared, register
from vaulta.services.changes.banking_actions import params_of
from vaulta.services.errors import Conflict, InvalidInput
from vaulta.services.identity.permissions import ROLE_PERMISSIONS
from vaulta.text import display_problem

ACTION = "policies.update"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
DESCRIPTION_MAX = 200
DECIDING_ROLES = frozenset(r for r in STAFF_ROLES if "requests.decide" in ROLE_PERMISSIONS[r])


def current_version(s: Session, name: str) -> ApprovalPolicy | None:
    for policy in policies.current_policies(s):
        if policy.name == name:
            return policy
    return None


def _int(value: Any, field: str, *, low: int | None = None, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        raise InvalidInput(
            f"Give a whole number{'' if low is None else f' of at least {low}'}.", field=field
        )
    return value


def _choice(value: Any, choices: tuple[str, ...] | frozenset[str], field: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in choices:
        raise InvalidInput(f"Choose one of {', '.join(sorted(choices))}.", field=field)
    return str(value)


def _levels(fields: dict[str, Any]) -> tuple[int, list[list[str]], list[int]]:
    action = fields.get("action")
    self_service = action in ACTIONS and ACTIONS[str(action)].self_service
    lowest = 0 if self_service else 1
    levels = _int(fields.get("levels"), "levels", low=lowest)
    assert levels is not None
    if levels > MAX_LEVELS:
        raise InvalidInput(f"A policy has {lowest} to {MAX_LEVELS} levels.", field="levels")
    roles = fields.get("roles_per_level")
    if not isinstance(roles, list) or len(roles) != levels:
        raise InvalidInput("Name the roles that may decide each level.", field="roles_per_level")
    cleaned: list[list[str]] = []
    for number, names in enumerate(roles, start=1):
        if not isinstance(names, list) or not set(names) <= set(STAFF_ROLES):
            raise InvalidInput(f"Level {number}: choose staff roles.", field="roles_per_level")
        if not set(names) & DECIDING_ROLES:
            raise InvalidInput(
                f"Level {number}: name a role that may decide requests "
                f"({', '.join(sorted(DECIDING_ROLES))}).",
                field="roles_per_level",
            )
        cleaned.append([r for r in STAFF_ROLES if r in names])
    step_up = fields.get("step_up_levels") or []
    if not isinstance(step_up, list) or not set(step_up) <= set(range(1, levels + 1)):
        raise InvalidInput("Step-up applies to levels the policy has.", field="step_up_levels")
    return levels, cleaned, sorted(set(step_up))


def clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A whole policy version checked: every ``POLICY_FIELDS`` value, or InvalidInput."""
    action = fields.get("action")
    if action not in (POLICY_ANY_ACTION, POLICY_MONEY_ACTIONS) and action not in ACTIONS:
        raise InvalidInput("Choose an action, * (every action) or money.", field="action")
    description = " ".join(str(fields.get("description") or "").split())
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"Keep the description under {DESCRIPTION_MAX} characters.")
    if problem := display_problem(description):
        raise InvalidInput(problem, field="description")
    levels, roles, step_up = _levels(fields)
    window = _int(
        fields.get("cumulative_window_hours"), "cumulative_window_hours", low=1, optional=True
    )
    threshold = _int(
        fields.get("cumulative_threshold_minor"), "cumulative_threshold_minor", low=1, optional=True
    )
    by = _choice(fields.get("cumulative_by"), CUMULATIVE_BY, "cumulative_by")
    if len({window is None, threshold is None, by is None}) != 1:
        raise InvalidInput(
            "A cumulative condition needs its window, its threshold and what it sums by.",
            field="cumulative_threshold_minor",
        )
    return {
        "description": description,
        "action": str(action),
        "priority": _int(fields.get("priority", 0), "priority", low=0),
        "enabled": bool(fields.get("enabled", True)),
        "min_amount_minor": _int(
            fields.get("min_amount_minor"), "min_amount_minor", low=0, optional=True
        ),
        "currency": _choice(fields.get("currency"), tuple(CURRENCY_EXPONENTS), "currency"),
        "cumulative_window_hours": window,
        "cumulative_threshold_minor": threshold,
        "cumulative_by": by,
        "account_kind": _choice(fields.get("account_kind"), ACCOUNT_KINDS, "account_kind"),
        "levels": levels,
        "roles_per_level": roles,
        "step_up_levels": step_up,
        "bulk_allowed": bool(fields.get("bulk_allowed", False)),
    }


def _guard_policy_changes(current: ApprovalPolicy | None, new: dict[str, Any]) -> None:
    """The policy over policy changes keeps asking two approvers."""
    if current is None or current.action != ACTION:
        return
    if new["action"] != ACTION or not new["enabled"] or new["levels"] < 2:
        raise InvalidInput(
            "The policy over policy changes stays enabled, for policies.update, with at least "
            "two levels."
        )


def prepare(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    name = str(params.get("name") or "")
    if not NAME_RE.match(name):
        raise InvalidInput("Name the policy with lower-case letters, digits and -.", field="name")
    raw = params.get("fields")
    if not isinstance(raw, dict):
        raise InvalidInput("Give the policy's settings.")
    fields = clean_fields(raw)
    current = current_version(s, name)
    _guard_policy_changes(current, fields)
    before = policies.policy_fields(current) if current is not None else {}
    changed = {k: v for k, v in fields.items() if before.get(k) != v}
    if current is not None and not changed:
        raise InvalidInput("Nothing to change: the settings are those in force.")
    return Prepared(
        target_type="policy",
        target_id=current.id if current is not None else None,
        before={k: before.get(k) for k in changed},
        after=changed,
        summary=f"{'Change' if current else 'Add'} approval policy {name}"
        + (f" (version {current.version})" if current else ""),
        dedupe_key=f"policy:{name}",
        params={
            "name": name,
            "base_version": current.version if current else None,
            "fields": fields,
        },
    )


def recheck(s: Session, request: ChangeRequest) -> None:
    params = params_of(request)
    current = current_version(s, str(params.get("name")))
    now = current.version if current is not None else None
    if now != params.get("base_version"):
        raise Conflict(
            f"Policy {params.get('name')} changed since this request was made "
            f"(version {now} is in force now): ask again from the current version."
        )
    _guard_policy_changes(current, clean_fields(params.get("fields") or {}))


def execute(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = params_of(request)
    name = str(params["name"])
    policy = policies.install_version(
        s, name, clean_fields(params["fields"]), created_by_id=request.maker_id
    )
    audit.record(
        s,
        actor=request.maker_id,
        action="policy.updated",
        object_type="policy",
        object_id=policy.id,
        details={
            "name": name,
            "version": policy.version,
            "change_request_id": request.id,
            "approved_by_id": decider.id,
        },
    )
    request.target_id = policy.id
    return {"policy_id": policy.id, "name": name, "version": policy.version}


SPEC = register(
    ActionSpec(
        name=ACTION,
        label="Change approval policy",
        is_money=False,
        maker_permission="policies.manage",
        prepare=prepare,
        recheck=recheck,
        execute=execute,
    )
)
