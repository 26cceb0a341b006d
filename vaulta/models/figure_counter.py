"""Row counts kept up to date by the database, for the staff overview's counters.

``figure_counters`` holds, per figure (``customers``, ``customer_accounts``), a few shards
whose values add up to the count. Triggers on ``customers`` and ``accounts`` (created by
migration ``e5b7c1d9a2f4``; on PostgreSQL once per statement since ``8075314aee27``) add 1
per inserted row and take 1 per deleted row, in the writing transaction, to the shard
``id % SHARDS``: concurrent
inserts rarely touch the same row, and every path that writes those tables (services,
bulk loads, COPY) is counted. Reading a figure sums ``SHARDS`` rows through the primary key
instead of counting 100,000 rows on every view (vaulta/services/reports/overview.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vaulta.models.base import Base

SHARDS = 16
COUNT_CUSTOMERS = "customers"
COUNT_CUSTOMER_ACCOUNTS = "customer_accounts"


class FigureCounter(Base):
    __tablename__ = "figure_counters"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    shard: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)
