"""Schedule arithmetic of standing orders: pure functions of dates.

Weekly: every 7 days from the first date. Monthly: the first date's day of the month, in
every month after it; in a month too short for it (day 29, 30 or 31) the month's last day,
and back to the chosen day in the next month long enough (31 Jan → 28/29 Feb → 31 Mar).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from vaulta.models.standing_order import MONTHLY, WEEKLY


def in_month(year: int, month: int, day: int) -> date:
    """``day`` of the month, or the month's last day when it has fewer days."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def next_after(first_date: date, frequency: str, current: date) -> date:
    """The occurrence after ``current`` of an order starting on ``first_date``."""
    if frequency == WEEKLY:
        return current + timedelta(days=7)
    if frequency == MONTHLY:
        index = current.year * 12 + current.month  # the month after current's, 1-based
        return in_month(index // 12, index % 12 + 1, first_date.day)
    raise ValueError(f"unknown frequency {frequency!r}")


def first_on_or_after(first_date: date, frequency: str, current: date, day: date) -> date:
    """The first occurrence not before ``day``, walking on from occurrence ``current``."""
    while current < day:
        current = next_after(first_date, frequency, current)
    return current


def occurrences(
    first_date: date, frequency: str, *, count: int, end_date: date | None = None
) -> list[date]:
    """The first ``count`` dates of the schedule (fewer when ``end_date`` comes first)."""
    found: list[date] = []
    current = first_date
    while len(found) < count and (end_date is None or current <= end_date):
        found.append(current)
        current = next_after(first_date, frequency, current)
    return found
