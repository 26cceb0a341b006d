"""The JSON API's shapes for limits and blocks (issue 16): staff ask for them as change
requests (answered with vaulta/api/change_models.py ``ChangeRequest``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from vaulta.api.models import BIGINT_MAX, Shape

Reason = Annotated[str, StringConstraints(max_length=500)]


class OverdraftRequest(Shape):
    """A new overdraft limit for a customer account, in minor units of its currency."""

    model_config = ConfigDict(extra="forbid", strict=True)

    overdraft_limit_minor: Annotated[
        StrictInt,
        Field(ge=0, le=BIGINT_MAX, description="minor units, at most LEDGER_MAX_AMOUNT_MINOR"),
    ]


class BlockRequest(Shape):
    """Block or unblock an account; the reason goes to the audit log."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason | None = None


class DailyLimitRequest(Shape):
    """A customer's daily outgoing limit: one number applied in each currency separately,
    in that currency's minor units; null removes the limit."""

    model_config = ConfigDict(extra="forbid", strict=True)

    daily_outgoing_limit_minor: Annotated[
        StrictInt | None,
        Field(ge=0, le=BIGINT_MAX, description="minor units per UTC day and currency; null: none"),
    ]
