"""What the inbox's templates show of a change request: one ``Item`` per row, built from a
``change_queries`` row (the inbox, the maker's list) or from the ORM request (a row swapped
in after a decision, the detail page).

``change_queries`` rows leave out the request's ``change`` (its before/after), which every
inbox row shows as a diff: ``changes_of`` reads it for a page's ids in one statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from vaulta.models import ApprovalPolicy, ChangeRequest, Customer, User
from vaulta.models.change_request import CR_PENDING
from vaulta.services.changes import change_requests
from vaulta.services.changes.actions import ACTIONS
from vaulta.services.unit_of_work import session


def action_labels() -> dict[str, str]:
    """Every requestable action's name and label (the inbox's action filter)."""
    return {name: spec.label for name, spec in sorted(ACTIONS.items())}


def maker_permissions() -> frozenset[str]:
    """The permissions that make a login a maker: each action's ``maker_permission``."""
    return frozenset(spec.maker_permission for spec in ACTIONS.values())


@dataclass(frozen=True)
class Item:
    id: int
    action: str
    action_label: str
    status: str
    summary: str
    customer_name: str | None
    customer_number: str | None
    amount_minor: int | None
    currency: str | None
    maker_name: str
    maker_email: str
    levels_required: int
    levels_approved: int
    bulk_allowed: bool
    step_up: bool  # its next level needs a one-time code
    created_at: datetime
    failure_reason: str | None
    change: dict[str, Any]
    decidable: bool  # the viewer may decide its next level now

    @property
    def next_level(self) -> int:
        return self.levels_approved + 1


def _label(action: str) -> str:
    spec = ACTIONS.get(action)
    return spec.label if spec else action


def _needs_code(status: str, levels_approved: int, step_up_levels: Sequence[int] | None) -> bool:
    return status == CR_PENDING and levels_approved + 1 in (step_up_levels or [])


def changes_of(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The ``change`` (before/after/params) of each request in ``ids``."""
    wanted = list(ids)
    if not wanted:
        return {}
    rows = session().execute(
        sa.select(ChangeRequest.id, ChangeRequest.change).where(ChangeRequest.id.in_(wanted))
    )
    return {row.id: row.change or {} for row in rows}


def items_of(rows: Sequence[Any], *, decidable: bool) -> list[Item]:
    """Items of ``change_queries`` rows (``decidable``: they come from ``decidable_for``)."""
    changes = changes_of(row.id for row in rows)
    return [
        Item(
            id=row.id,
            action=row.action,
            action_label=_label(row.action),
            status=row.status,
            summary=row.summary,
            customer_name=row.customer_name,
            customer_number=row.customer_number,
            amount_minor=row.amount_minor,
            currency=row.currency,
            maker_name=row.maker_name,
            maker_email=row.maker_email,
            levels_required=row.levels_required,
            levels_approved=row.levels_approved,
            bulk_allowed=row.bulk_allowed,
            step_up=_needs_code(row.status, row.levels_approved, row.step_up_levels),
            created_at=row.created_at,
            failure_reason=row.failure_reason,
            change=changes.get(row.id, {}),
            decidable=decidable,
        )
        for row in rows
    ]


def item_of(request: ChangeRequest, viewer: User) -> Item:
    """The item of one loaded request, as ``viewer`` sees it."""
    customer = session().get(Customer, request.customer_id) if request.customer_id else None
    pending = request.status == CR_PENDING
    return Item(
        id=request.id,
        action=request.action,
        action_label=_label(request.action),
        status=request.status,
        summary=request.summary,
        customer_name=customer.full_name if customer else None,
        customer_number=customer.customer_number if customer else None,
        amount_minor=request.amount_minor,
        currency=request.currency,
        maker_name=request.maker.full_name,
        maker_email=request.maker.email,
        levels_required=request.levels_required,
        levels_approved=request.levels_approved,
        bulk_allowed=request.bulk_allowed,
        step_up=_needs_code(request.status, request.levels_approved, request.step_up_levels),
        created_at=request.created_at,
        failure_reason=request.failure_reason,
        change=request.change or {},
        decidable=pending and change_requests.may_decide(request, viewer),
    )


def policy_name(request: ChangeRequest) -> str | None:
    """The name of the policy that applied to ``request`` (None when none did)."""
    if request.policy_id is None:
        return None
    policy = session().get(ApprovalPolicy, request.policy_id)
    return policy.name if policy else None
