"""The JSON API's shapes for change requests and the staff's money requests (issue 15).

As in vaulta/api/models.py: input models forbid unknown fields and coerce nothing, amounts
are integers in minor units beside their currency, timestamps ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from vaulta.api.models import (
    BIGINT_MAX,
    LIMIT_DEFAULT,
    Currency,
    Limit,
    NextCursor,
    Shape,
    Text,
    Timestamp,
    _cursor,
    _left_out_not_null,
)
from vaulta.models import ChangeRequest as ChangeRequestRow
from vaulta.models.change_request import CR_STATUSES, DECISIONS

ChangeStatus = Literal[CR_STATUSES]  # type: ignore[valid-type]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500)]


# --- Requests ---


class MoneyRequest(Shape):
    """A deposit into or a withdrawal from a customer's account, in the account's currency."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra=lambda s: _left_out_not_null(s)
    )

    amount_minor: Annotated[
        StrictInt,
        Field(ge=1, le=BIGINT_MAX, description="minor units, at most LEDGER_MAX_AMOUNT_MINOR"),
    ]
    currency: Currency
    description: Text
    value_date: (
        Annotated[
            str,
            StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
            Field(
                description="YYYY-MM-DD: today (UTC) or up to LEDGER_BACKDATE_DAYS back; "
                "left out: the day it is posted",
                examples=["2026-11-28"],
            ),
        ]
        | None
    ) = None


class ApproveBody(Shape):
    """``{}``, or the one-time code a step-up level needs (mailed after a first call)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra=lambda s: _left_out_not_null(s)
    )

    step_up_code: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$"), Field(description="6 digits")]
        | None
    ) = None


class RejectBody(Shape):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Annotated[Text, Field(description="Why; kept with the decision")]


class ChangeRequestQuery(Shape):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_left_out_not_null)

    status: Annotated[
        Literal["pending"],
        Field(description="pending: the requests the key's user may decide now, oldest first"),
    ] = "pending"
    limit: Limit = LIMIT_DEFAULT
    cursor: _cursor("c") | None = None  # type: ignore[valid-type]


# --- Responses ---


class ChangeDecision(Shape):
    level: int
    decision: Literal[DECISIONS]  # type: ignore[valid-type]
    decider: Annotated[str, Field(description="the decider's email")]
    reason: str | None
    step_up_used: bool
    policy_version: int | None
    decided_at: Timestamp


class ChangeRequestSummary(Shape):
    """A change request as lists show it (the change itself: GET /change-requests/{id})."""

    id: int
    action: Annotated[str, Field(examples=["ledger.deposit"])]
    status: ChangeStatus
    summary: str
    target_type: str
    target_id: int | None
    amount_minor: Annotated[int | None, Field(description="minor units (money actions)")]
    currency: Currency | None
    maker: Annotated[str, Field(description="the maker's email")]
    levels_required: int
    levels_approved: int
    next_level_needs_step_up: bool
    bulk_allowed: bool
    policy_version: int | None
    created_at: Timestamp
    expires_at: Timestamp
    decided_at: Timestamp | None
    failure_reason: str | None


class ChangeRequestPage(Shape):
    items: list[ChangeRequestSummary]
    next_cursor: NextCursor


def _needs_code(status: str, levels_approved: int, step_up_levels: list[int] | None) -> bool:
    return status == "pending" and levels_approved + 1 in (step_up_levels or [])


def summary_of_row(row: Any) -> ChangeRequestSummary:
    """From a ``change_queries`` row."""
    return ChangeRequestSummary(
        id=row.id,
        action=row.action,
        status=row.status,
        summary=row.summary,
        target_type=row.target_type,
        target_id=row.target_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        maker=row.maker_email,
        levels_required=row.levels_required,
        levels_approved=row.levels_approved,
        next_level_needs_step_up=_needs_code(row.status, row.levels_approved, row.step_up_levels),
        bulk_allowed=row.bulk_allowed,
        policy_version=row.policy_version,
        created_at=row.created_at,
        expires_at=row.expires_at,
        decided_at=row.decided_at,
        failure_reason=row.failure_reason,
    )


class ChangeRequest(ChangeRequestSummary):
    """One change request: the change (before/after), the policy's levels, the decisions."""

    before: dict[str, Any]
    after: dict[str, Any]
    step_up_levels: list[int]
    result: Annotated[
        dict[str, Any] | None, Field(description="what execution produced, e.g. transaction_id")
    ]
    decisions: list[ChangeDecision]

    @classmethod
    def of(cls, request: ChangeRequestRow, decisions: list[Any]) -> ChangeRequest:
        change = request.change or {}
        return cls(
            id=request.id,
            action=request.action,
            status=request.status,
            summary=request.summary,
            target_type=request.target_type,
            target_id=request.target_id,
            amount_minor=request.amount_minor,
            currency=request.currency,
            maker=request.maker.email,
            levels_required=request.levels_required,
            levels_approved=request.levels_approved,
            next_level_needs_step_up=_needs_code(
                request.status, request.levels_approved, request.step_up_levels
            ),
            bulk_allowed=request.bulk_allowed,
            policy_version=request.policy_version,
            created_at=request.created_at,
            expires_at=request.expires_at,
            decided_at=request.decided_at,
            failure_reason=request.failure_reason,
            before=change.get("before") or {},
            after=change.get("after") or {},
            step_up_levels=list(request.step_up_levels or []),
            result=request.result,
            decisions=[
                ChangeDecision(
                    level=d.level,
                    decision=d.decision,
                    decider=d.decider_email,
                    reason=d.reason,
                    step_up_used=d.step_up_used,
                    policy_version=d.policy_version,
                    decided_at=d.decided_at,
                )
                for d in decisions
            ],
        )
