"""The API's shapes for holds (``/accounts/{number}/holds``, ``/holds/{id}/…``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StrictInt

from vaulta.api.models import BIGINT_MAX, AccountNumber, Currency, Shape, Text, Timestamp
from vaulta.models.hold import HOLD_STATUSES

Minor = Annotated[StrictInt, Field(ge=1, le=BIGINT_MAX, description="minor units")]


class Hold(Shape):
    id: int
    account: AccountNumber
    status: Literal[HOLD_STATUSES]  # type: ignore[valid-type]
    amount_minor: Annotated[int, Field(description="minor units held")]
    currency: Currency
    captured_minor: Annotated[int, Field(description="minor units posted by the capture")]
    reason: str
    expires_at: Timestamp
    payment_id: int | None = Field(None, description="The payment it reserves for, if any.")
    transaction_id: int | None = Field(None, description="The capture's entry.")
    created_at: Timestamp
    ended_at: Timestamp | None = None

    @classmethod
    def of(cls, row: Any) -> Hold:
        return cls(
            id=row.id,
            account=row.account,
            status=row.status,
            amount_minor=row.amount_minor,
            currency=row.currency,
            captured_minor=row.captured_minor,
            reason=row.reason,
            expires_at=row.expires_at,
            payment_id=row.payment_id,
            transaction_id=row.transaction_id,
            created_at=row.created_at,
            ended_at=row.ended_at,
        )


class HoldList(Shape):
    """Active holds first (soonest expiry first), then the newest ended ones."""

    items: list[Hold]


class HoldRequest(Shape):
    """Hold an amount of a customer's account until ``expires_at`` (a change request)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    amount_minor: Minor
    reason: Text
    expires_at: Annotated[
        str,
        Field(
            min_length=10,
            max_length=40,
            description="ISO 8601 date and time with its offset, in the future",
        ),
    ]


class CaptureRequest(Shape):
    """Capture a hold: ``amount_minor`` of it (at most what is held), or all of it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    amount_minor: Minor | None = None


class ReleaseRequest(Shape):
    """Release a hold (no fields)."""

    model_config = ConfigDict(extra="forbid", strict=True)
