"""Reading a posted conversion (Core rows): its FX facts, accounts and postings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm

from vaulta.models import Account, FxConversion, Posting, Transaction
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session


@dataclass(frozen=True)
class PostingLine:
    account: str
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class ConversionDetail:
    transaction_id: int
    quote_id: str
    customer_id: int | None
    from_account: str
    to_account: str
    from_amount_minor: int
    from_currency: str
    to_amount_minor: int
    to_currency: str
    rate: Decimal
    market_rate: Decimal
    inverted: bool
    spread_bps: int
    created_at: datetime
    postings: list[PostingLine]


def conversion(transaction_id: int) -> ConversionDetail:
    """The conversion posted as ``transaction_id``; NotFound when there is none."""
    source, target = sa.orm.aliased(Account), sa.orm.aliased(Account)
    s = session()
    row = s.execute(
        sa.select(
            FxConversion,
            Transaction.created_at,
            source.number,
            target.number,
            source.customer_id,
        )
        .join(Transaction, Transaction.id == FxConversion.transaction_id)
        .join(source, source.id == Transaction.debit_account_id)
        .join(target, target.id == Transaction.credit_account_id)
        .where(FxConversion.transaction_id == transaction_id)
    ).one_or_none()
    if row is None:
        raise NotFound("No such conversion.")
    fx, created_at, from_number, to_number, customer_id = row
    postings = [
        PostingLine(number, amount, currency)
        for number, amount, currency in s.execute(
            sa.select(Account.number, Posting.amount_minor, Posting.currency)
            .join(Account, Account.id == Posting.account_id)
            .where(Posting.transaction_id == transaction_id)
            .order_by(Posting.id)
        )
    ]
    return ConversionDetail(
        transaction_id=fx.transaction_id,
        quote_id=fx.quote_id,
        customer_id=customer_id,
        from_account=from_number,
        to_account=to_number,
        from_amount_minor=fx.from_amount_minor,
        from_currency=fx.from_currency,
        to_amount_minor=fx.to_amount_minor,
        to_currency=fx.to_currency,
        rate=fx.rate,
        market_rate=fx.market_rate,
        inverted=fx.inverted,
        spread_bps=fx.spread_bps,
        created_at=created_at,
        postings=postings,
    )
