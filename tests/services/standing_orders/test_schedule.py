"""Schedule arithmetic: weekly steps, month ends (day 29 to 31 falls back to the last day)."""

from __future__ import annotations

from datetime import date

from vaulta.services.standing_orders.schedule import first_on_or_after, next_after, occurrences


def test_weekly_is_every_seven_days_across_a_year_end() -> None:
    assert occurrences(date(2027, 12, 23), "weekly", count=3) == [
        date(2027, 12, 23),
        date(2027, 12, 30),
        date(2028, 1, 6),
    ]


def test_monthly_on_the_31st_takes_each_shorter_months_last_day_and_comes_back() -> None:
    assert occurrences(date(2027, 1, 31), "monthly", count=5) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]


def test_monthly_on_the_29th_in_a_leap_year_and_the_next() -> None:
    assert occurrences(date(2028, 1, 29), "monthly", count=2) == [
        date(2028, 1, 29),
        date(2028, 2, 29),
    ]
    assert next_after(date(2027, 1, 29), "monthly", date(2027, 1, 29)) == date(2027, 2, 28)
    assert next_after(date(2027, 1, 30), "monthly", date(2027, 2, 28)) == date(2027, 3, 30)


def test_monthly_across_december() -> None:
    assert next_after(date(2027, 12, 15), "monthly", date(2027, 12, 15)) == date(2028, 1, 15)


def test_end_date_stops_the_occurrences() -> None:
    assert occurrences(date(2027, 1, 1), "weekly", count=10, end_date=date(2027, 1, 15)) == [
        date(2027, 1, 1),
        date(2027, 1, 8),
        date(2027, 1, 15),
    ]


def test_first_on_or_after_skips_to_the_first_date_not_before_the_day() -> None:
    first = date(2027, 1, 31)
    assert first_on_or_after(first, "monthly", first, date(2027, 3, 1)) == date(2027, 3, 31)
    assert first_on_or_after(first, "monthly", first, date(2027, 1, 31)) == first
