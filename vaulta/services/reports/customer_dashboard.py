"""A customer's charts: each account's balance at the end of every day of the last 90
days, and money in and out per month of the last six (queries only, Core rows).

One statement per account groups the account's postings (the legs of its entries, each in
the account's own currency) since the window's start by value date, credits (positive) and
debits (negative) apart, read as one range of ``ix_postings_account_id_value_date_id``. So
a conversion counts on the receiving account with the amount it received in its currency,
and every leg of a multi-leg entry counts on its own account. The daily balances are then
walked back from the stored balance, read in the same snapshot, as every statement is
anchored: the balance at the end of a day is the stored balance minus the postings dated
after it (vaulta/services/ledger/balances.py, at the day's end).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from vaulta.models import Account, Posting, utcnow
from vaulta.services.reports.statement_archive import month_start, next_month
from vaulta.services.unit_of_work import snapshot

BALANCE_DAYS = 90
FLOW_MONTHS = 6

_p = Posting.__table__
_a = Account.__table__


class MonthFlow(NamedTuple):
    month: date
    money_in_minor: int
    money_out_minor: int


class AccountActivity(NamedTuple):
    account_id: int
    number: str
    currency: str
    balances: list[tuple[date, int]]  # the balance at the end of each day, oldest first
    months: list[MonthFlow]  # oldest first


def _daily_flows(account_id: int, start: date) -> sa.Select:
    """(value date, credits, debits) of the account's postings dated ``start`` or later."""
    amount = _p.c.amount_minor
    money_in = sa.func.sum(sa.case((amount > 0, amount), else_=0))
    money_out = sa.func.sum(sa.case((amount < 0, -amount), else_=0))
    return (
        sa.select(_p.c.value_date, money_in, money_out)
        .where(_p.c.account_id == account_id, _p.c.value_date >= start)
        .group_by(_p.c.value_date)
        .order_by(_p.c.value_date)
    )


def account_activity(account: Account, *, today: date | None = None) -> AccountActivity:
    today = today or utcnow().date()
    first_day = today - timedelta(days=BALANCE_DAYS - 1)
    first_month = month_start(today)
    for _ in range(FLOW_MONTHS - 1):
        first_month = month_start(first_month - timedelta(days=1))
    start = min(first_day, first_month)
    with snapshot() as conn:
        balance = int(conn.scalar(sa.select(_a.c.balance_minor).where(_a.c.id == account.id)) or 0)
        flows = {
            d: (int(i or 0), int(o or 0))
            for d, i, o in conn.execute(_daily_flows(account.id, start))
        }
    # The balance at the end of each day: the stored balance minus what came after.
    balances: list[tuple[date, int]] = []
    after = sum(i - o for day, (i, o) in flows.items() if day > today)
    running = balance - after
    for n in range((today - first_day).days + 1):
        day = today - timedelta(days=n)
        balances.append((day, running))
        money_in, money_out = flows.get(day, (0, 0))
        running -= money_in - money_out
    balances.reverse()
    per_month: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, (money_in, money_out) in flows.items():
        per_month[month_start(day)][0] += money_in
        per_month[month_start(day)][1] += money_out
    months = []
    month = first_month
    while month <= today:
        money_in, money_out = per_month.get(month, (0, 0))
        months.append(MonthFlow(month, money_in, money_out))
        month = next_month(month)
    return AccountActivity(account.id, account.number, account.currency, balances, months)
