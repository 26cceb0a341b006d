"""``GET /api/v1/accounts/{number}/balance?as_of=…``: an account's balance at an instant, by
value date (vaulta/services/ledger/balances.py has the rule).

A customer's key reads its customer's accounts (another customer's is 404); a staff key
with ``accounts.read`` (scope ``read``) reads any account. ``as_of`` is required: an ISO
8601 instant with its zone (``2026-11-01T00:00:00Z``); missing or invalid is 400.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from vaulta.api import auth, bp
from vaulta.api.errors import ApiError
from vaulta.api.models import ACCOUNT_NUMBER_PATTERN, Currency, Shape, Timestamp
from vaulta.api.spec import operation
from vaulta.models import Account
from vaulta.services.banking import account_queries
from vaulta.services.errors import NotFound
from vaulta.services.identity import api_keys, permissions
from vaulta.services.ledger import balances

ACCOUNT_NUMBER = re.compile(ACCOUNT_NUMBER_PATTERN)
OWN, ANY = "own.accounts.read", "accounts.read"
AS_OF_EXAMPLE = "2026-11-01T00:00:00Z"


class BalanceQuery(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=lambda s: s.update(required=["as_of"]),  # type: ignore[arg-type]
    )

    as_of: Annotated[
        str | None,
        Field(
            description="Required: an instant, ISO 8601 with its zone (Z or an offset)",
            examples=[AS_OF_EXAMPLE],
        ),
    ] = None


class Balance(Shape):
    number: str
    currency: Currency
    as_of: Timestamp
    balance_minor: Annotated[
        int,
        Field(
            description="minor units: postings value-dated before as_of's UTC date, plus "
            "those value-dated that day and booked at or before as_of"
        ),
    ]


def _instant(text: str | None) -> datetime:
    if not text or not text.strip():
        raise ApiError(400, "as_of_required", f"Give as_of, an instant like {AS_OF_EXAMPLE}.")
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None or instant.utcoffset() is None:
        raise ApiError(
            400,
            "invalid_as_of",
            f"as_of must be an ISO 8601 instant with its zone, like {AS_OF_EXAMPLE}.",
        )
    return instant


def _readable_account(number: str) -> Account:
    """The customer's own account, or any account for a staff key with ``accounts.read``."""
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise NotFound("No such account.")
    user = auth.current_user()
    allowed = permissions.key_permissions(user, api_keys.scopes_of(auth.current_key()))
    if OWN in allowed and user.customer_id is not None:
        return account_queries.get_account_for_customer(number, user.customer_id)
    if ANY in allowed:
        return account_queries.get_account_by_number(number)
    raise NotFound("No such account.")  # pragma: no cover - requires_any_permission refused


@bp.get("/accounts/<number>/balance")
@operation(
    permission=(OWN, ANY),
    ok=(200, Balance),
    errors=(404,),
    path={"number": "Account number (10 digits)"},
)
def get_balance(number: str, query: BalanceQuery) -> Balance:
    """The account's balance at an instant, by value date"""
    instant = _instant(query.as_of)
    account = _readable_account(number)
    amount = balances.balance_as_of(account.id, instant)
    return Balance(
        number=account.number, currency=account.currency, as_of=instant, balance_minor=amount
    )
