"""The JSON API's shapes for FX quotes and conversions (issue 16).

As in vaulta/api/models.py: input models forbid unknown fields and coerce nothing; amounts
are integers in minor units beside their currency; rates are decimal strings (never JSON
numbers, which clients read as floats).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from vaulta.api.models import BIGINT_MAX, AccountNumber, Currency, Shape, Timestamp
from vaulta.models import FxQuote

QUOTE_ID_PATTERN = r"^fxq_[A-Za-z0-9_-]{8,36}$"
QuoteId = Annotated[
    str, StringConstraints(pattern=QUOTE_ID_PATTERN), Field(description="A quote's id (fxq_…)")
]
Rate = Annotated[str, Field(description='A decimal number as a string, e.g. "1.0795750"')]


class QuoteRequest(Shape):
    """Price converting ``amount_minor`` (minor units of from_account's currency) from one of
    the customer's accounts into another of theirs in a different currency."""

    model_config = ConfigDict(extra="forbid", strict=True)

    from_account: AccountNumber
    to_account: AccountNumber
    amount_minor: Annotated[
        StrictInt,
        Field(ge=1, le=BIGINT_MAX, description="minor units of from_account's currency"),
    ]


class ConversionRequest(Shape):
    """Convert at a quote: once, before it expires."""

    model_config = ConfigDict(extra="forbid", strict=True)

    quote_id: QuoteId


class Quote(Shape):
    id: QuoteId
    from_account: AccountNumber
    to_account: AccountNumber
    from_amount_minor: Annotated[int, Field(description="minor units the customer pays")]
    from_currency: Currency
    to_amount_minor: Annotated[int, Field(description="minor units the customer receives")]
    to_currency: Currency
    rate: Annotated[
        str,
        Field(
            description="The customer's rate (to_currency per from_currency, after the "
            "spread), rounded down to 12 places; to_amount_minor is exact, rounded down"
        ),
    ]
    market_rate: Rate
    inverted: Annotated[
        bool, Field(description="The registry had only the reverse pair: 1 / market_rate")
    ]
    spread_bps: Annotated[int, Field(description="The bank's spread in basis points")]
    created_at: Timestamp
    expires_at: Timestamp
    used: bool

    @classmethod
    def of(cls, quote: FxQuote, from_number: str, to_number: str) -> Quote:
        return cls(
            id=quote.id,
            from_account=from_number,
            to_account=to_number,
            from_amount_minor=quote.from_amount_minor,
            from_currency=quote.from_currency,
            to_amount_minor=quote.to_amount_minor,
            to_currency=quote.to_currency,
            rate=format(quote.rate, "f"),
            market_rate=format(quote.market_rate, "f"),
            inverted=quote.inverted,
            spread_bps=quote.spread_bps,
            created_at=quote.created_at,
            expires_at=quote.expires_at,
            used=quote.used_at is not None,
        )


class Posting(Shape):
    account: AccountNumber
    amount_minor: Annotated[int, Field(description="signed: credits positive, debits negative")]
    currency: Currency


class Conversion(Shape):
    """A posted conversion: its entry (transaction) with its four postings."""

    transaction_id: int
    quote_id: QuoteId
    from_account: AccountNumber
    to_account: AccountNumber
    from_amount_minor: int
    from_currency: Currency
    to_amount_minor: int
    to_currency: Currency
    rate: Rate
    market_rate: Rate
    inverted: bool
    spread_bps: int
    created_at: Timestamp
    postings: list[Posting]
    change_request_id: Annotated[int, Field(description="The change request that executed it")]
