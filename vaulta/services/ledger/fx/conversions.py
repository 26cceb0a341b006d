"""Executing a conversion: one entry of four postings through the FX position accounts.

A confirmed quote of X (currency F) from the customer's account A for Y (currency T) into
their account B becomes one ``conversion`` entry (``ledger.post_entry``):

    A               -X  F     (the customer pays)
    FX position F   +X  F     (the bank's position in F grows)
    FX position T   -Y  T     (the bank's position in T pays out)
    B               +Y  T     (the customer receives)

so it balances in each currency. The entry's header is the principal movement A -> B of X
in F. Its ``fx_conversions`` row (same transaction) keeps the rate, the market rate, the
spread, ``inverted`` and both amounts; ``conversion.executed`` goes to the outbox and the
audit event ``fx.conversion`` joins ``transaction.conversion``. Only the change-request
action ``ledger.conversion`` (vaulta/services/changes/conversion_action.py) calls this.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, FxConversion, FxQuote
from vaulta.models.account import KIND_FX_POSITION
from vaulta.models.transaction import TX_CONVERSION
from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.errors import AccountNotAvailable, NotFound
from vaulta.services.events import ConversionData, event_row
from vaulta.services.ledger.entries import Leg, post_entry


def description_of(quote: FxQuote) -> str:
    return (
        f"Conversion of {format_amount(quote.from_amount_minor, quote.from_currency)} "
        f"into {format_amount(quote.to_amount_minor, quote.to_currency)}"
    )


def _position(s: Session, currency: str) -> int:
    found = s.scalar(
        sa.select(Account.id).where(Account.kind == KIND_FX_POSITION, Account.currency == currency)
    )
    if found is None:  # created when the conversion was asked for (fx_position_account)
        raise AccountNotAvailable(f"There is no FX position account for {currency}.")
    return found


def execute_quote(
    s: Session, quote_id: str, *, actor_id: int, idempotency_key: str | None = None
) -> int:
    """Post the conversion of the (already consumed) quote in the caller's transaction;
    the entry's transaction id. A refusal (funds, account status) writes nothing."""
    quote = s.get(FxQuote, quote_id, populate_existing=True)
    if quote is None:
        raise NotFound("No such quote.")
    numbers = dict(
        s.execute(
            sa.select(Account.id, Account.number).where(
                Account.id.in_([quote.from_account_id, quote.to_account_id])
            )
        ).all()
    )
    legs = [
        Leg(quote.from_account_id, -quote.from_amount_minor),
        Leg(_position(s, quote.from_currency), quote.from_amount_minor),
        Leg(_position(s, quote.to_currency), -quote.to_amount_minor),
        Leg(quote.to_account_id, quote.to_amount_minor),
    ]
    data = ConversionData(
        transaction_id=0,
        quote_id=quote.id,
        customer_id=quote.customer_id,
        from_account=numbers[quote.from_account_id],
        to_account=numbers[quote.to_account_id],
        from_amount_minor=quote.from_amount_minor,
        from_currency=quote.from_currency,
        to_amount_minor=quote.to_amount_minor,
        to_currency=quote.to_currency,
        rate=format(quote.rate, "f"),
        market_rate=format(quote.market_rate, "f"),
        inverted=quote.inverted,
        spread_bps=quote.spread_bps,
    )

    def record(tx_id: int) -> audit.Event:
        details = data.model_dump(mode="json") | {"transaction_id": tx_id}
        return audit.Event(actor_id, "fx.conversion", "transaction", tx_id, details)

    def emit(tx_id: int) -> dict[str, object]:
        return event_row("conversion.executed", data.model_copy(update={"transaction_id": tx_id}))

    tx_id = post_entry(
        s,
        legs,
        kind=TX_CONVERSION,
        description=description_of(quote),
        actor_id=actor_id,
        reference=quote.id,
        from_account_id=quote.from_account_id,
        to_account_id=quote.to_account_id,
        principal_minor=quote.from_amount_minor,
        idempotency_key=idempotency_key,
        also_record=record,
        also_emit=emit,
    )
    s.execute(
        sa.insert(FxConversion).values(
            transaction_id=tx_id,
            quote_id=quote.id,
            from_amount_minor=quote.from_amount_minor,
            from_currency=quote.from_currency,
            to_amount_minor=quote.to_amount_minor,
            to_currency=quote.to_currency,
            rate=quote.rate,
            market_rate=quote.market_rate,
            spread_bps=quote.spread_bps,
            rate_id=quote.rate_id,
            inverted=quote.inverted,
        )
    )
    return tx_id
