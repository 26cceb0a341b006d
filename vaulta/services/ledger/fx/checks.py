"""verify-ledger's FX checks: every conversion entry carries its rate.

- every ``conversion`` transaction has its ``fx_conversions`` row, and every row's
  transaction is a conversion;
- its postings match the stored amounts: the from-account pays ``from_amount_minor`` and the
  to-account receives ``to_amount_minor`` (the header's amount is the former);
- ``to_amount_minor`` is what the stored market rate, ``inverted`` and spread give
  (vaulta/services/ledger/fx/pricing.py): the rounding was the documented one.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vaulta.models import FxConversion, Posting, Transaction
from vaulta.models.transaction import TX_CONVERSION
from vaulta.services.ledger.fx import pricing

_f = FxConversion.__table__
_t = Transaction.__table__
_p = Posting.__table__


def fx_problems(conn: Connection) -> list[str]:
    problems: list[str] = []
    for (tx_id,) in conn.execute(
        sa.select(_t.c.id)
        .outerjoin(_f, _f.c.transaction_id == _t.c.id)
        .where(_t.c.kind == TX_CONVERSION, _f.c.transaction_id.is_(None))
        .order_by(_t.c.id)
    ):
        problems.append(f"transaction {tx_id}: a conversion without its rate (fx_conversions)")
    for tx_id, kind in conn.execute(
        sa.select(_t.c.id, _t.c.kind)
        .join(_f, _f.c.transaction_id == _t.c.id)
        .where(_t.c.kind != TX_CONVERSION)
        .order_by(_t.c.id)
    ):
        problems.append(f"transaction {tx_id}: has FX facts but is a {kind}")
    paid = (
        sa.select(sa.func.coalesce(sa.func.sum(_p.c.amount_minor), 0))
        .where(_p.c.transaction_id == _t.c.id, _p.c.account_id == _t.c.debit_account_id)
        .scalar_subquery()
    )
    received = (
        sa.select(sa.func.coalesce(sa.func.sum(_p.c.amount_minor), 0))
        .where(_p.c.transaction_id == _t.c.id, _p.c.account_id == _t.c.credit_account_id)
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(
            _t.c.id,
            _t.c.amount_minor,
            paid.label("paid"),
            received.label("received"),
            _f.c.from_amount_minor,
            _f.c.from_currency,
            _f.c.to_amount_minor,
            _f.c.to_currency,
            _f.c.market_rate,
            _f.c.inverted,
            _f.c.spread_bps,
        )
        .join(_f, _f.c.transaction_id == _t.c.id)
        .order_by(_t.c.id)
    )
    for row in rows:
        if row.paid != -row.from_amount_minor or row.amount_minor != row.from_amount_minor:
            problems.append(
                f"transaction {row.id}: the from-account's postings ({row.paid}) do not pay "
                f"the stored {row.from_amount_minor} {row.from_currency}"
            )
        if row.received != row.to_amount_minor:
            problems.append(
                f"transaction {row.id}: the to-account's postings ({row.received}) do not "
                f"receive the stored {row.to_amount_minor} {row.to_currency}"
            )
        expected = pricing.to_amount(
            row.from_amount_minor,
            row.from_currency,
            row.to_currency,
            row.market_rate,
            inverted=row.inverted,
            spread_bps=row.spread_bps,
        )
        if expected != row.to_amount_minor:
            problems.append(
                f"transaction {row.id}: {row.to_amount_minor} {row.to_currency} is not what "
                f"its rate and spread give ({expected})"
            )
    return problems
