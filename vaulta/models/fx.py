"""Foreign exchange: the rate registry, customers' quotes and the conversions they became.

- ``FxRate``: one rate of a currency pair from a moment on (``1 base = rate quote``), as
  imported (``flask vaulta fx-rates import``). Rows are never edited: a new rate is a new
  row with a later ``valid_from``; the rate in force at ``t`` is the pair's row with the
  greatest ``valid_from <= t`` (the unique index on base, quote, valid_from serves it).
- ``FxQuote``: what a customer was offered for one conversion (both amounts, the rate
  after the spread), valid until ``expires_at`` and usable once (``used_at``).
- ``FxConversion``: the rate, spread and both amounts of a posted ``conversion`` entry,
  keyed by its transaction.

Rates are exact decimals stored as their canonical text (``ExactDecimal``): never a float,
on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from vaulta.models.base import Base, CreatedAtMixin

RATE_MAX_LENGTH = 32  # characters of the canonical text: "123456.123456789012" and the like
RATE_MAX_PLACES = 12
QUOTE_ID_LENGTH = 40


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as its plain text (``"1.0850"``): exact on every backend."""

    impl = sa.String(RATE_MAX_LENGTH)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"not a finite Decimal: {value!r}")
        return format(value, "f")

    def process_result_value(self, value: str | None, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - only ExactDecimal writes the column
            raise ValueError(f"stored rate is not a decimal: {value!r}") from None


class FxRate(CreatedAtMixin, Base):
    __tablename__ = "fx_rates"
    __table_args__ = (
        # Also the index that finds a pair's rate in force at a time (greatest valid_from <= t).
        sa.UniqueConstraint(
            "base", "quote", "valid_from", name="uq_fx_rates_base_quote_valid_from"
        ),
        sa.CheckConstraint("base <> quote", name="distinct_currencies"),
        sa.CheckConstraint("length(base) = 3 AND length(quote) = 3", name="currency_codes"),
        sa.CheckConstraint("CAST(rate AS NUMERIC) > 0", name="rate_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(sa.String(3))
    quote: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    source: Mapped[str] = mapped_column(sa.String(64))
    valid_from: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )


class FxQuote(CreatedAtMixin, Base):
    """A conversion offered to a customer: ``from_amount_minor`` of ``from_currency`` for
    ``to_amount_minor`` of ``to_currency``, at ``rate`` (market rate less the spread)."""

    __tablename__ = "fx_quotes"
    __table_args__ = (
        sa.CheckConstraint("from_amount_minor > 0", name="from_amount_positive"),
        sa.CheckConstraint("to_amount_minor > 0", name="to_amount_positive"),
        sa.CheckConstraint("from_currency <> to_currency", name="distinct_currencies"),
        sa.CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
        sa.CheckConstraint("spread_bps >= 0", name="spread_not_negative"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_created"),
        sa.CheckConstraint("CAST(rate AS NUMERIC) > 0", name="rate_positive"),
        sa.Index("ix_fx_quotes_customer_id_created_at", "customer_id", "created_at"),
        sa.Index("ix_fx_quotes_expires_at", "expires_at"),  # the purge (fx/quote_purge.py)
    )

    id: Mapped[str] = mapped_column(sa.String(QUOTE_ID_LENGTH), primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id", ondelete="RESTRICT"))
    from_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    to_account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="RESTRICT"))
    from_amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    from_currency: Mapped[str] = mapped_column(sa.String(3))
    to_amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    to_currency: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    market_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    spread_bps: Mapped[int]
    rate_id: Mapped[int] = mapped_column(sa.ForeignKey("fx_rates.id", ondelete="RESTRICT"))
    inverted: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class FxConversion(Base):
    """The FX facts of one posted ``conversion`` entry (its transaction)."""

    __tablename__ = "fx_conversions"
    __table_args__ = (
        sa.CheckConstraint("from_amount_minor > 0", name="from_amount_positive"),
        sa.CheckConstraint("to_amount_minor > 0", name="to_amount_positive"),
        sa.CheckConstraint("from_currency <> to_currency", name="distinct_currencies"),
        sa.CheckConstraint("spread_bps >= 0", name="spread_not_negative"),
        sa.CheckConstraint("CAST(rate AS NUMERIC) > 0", name="rate_positive"),
    )

    transaction_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transactions.id", ondelete="RESTRICT"), primary_key=True
    )
    quote_id: Mapped[str] = mapped_column(
        sa.ForeignKey("fx_quotes.id", ondelete="RESTRICT"), unique=True
    )
    from_amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    from_currency: Mapped[str] = mapped_column(sa.String(3))
    to_amount_minor: Mapped[int] = mapped_column(sa.BigInteger)
    to_currency: Mapped[str] = mapped_column(sa.String(3))
    rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    market_rate: Mapped[Decimal] = mapped_column(ExactDecimal())
    spread_bps: Mapped[int]
    rate_id: Mapped[int] = mapped_column(sa.ForeignKey("fx_rates.id", ondelete="RESTRICT"))
    inverted: Mapped[bool] = mapped_column(default=False)
