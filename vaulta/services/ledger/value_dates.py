"""Value dates of staff deposits and withdrawals: the backdating window.

A value date (the day an entry takes effect for balances and statements) is today (UTC)
or up to ``LEDGER_BACKDATE_DAYS`` days before it, never after it. A change request
carries the value date it was asked with; it is checked when the request is made and
again when it is executed (days pass while it waits): a request whose value date has
left the window by then fails with the reason.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from vaulta.services.errors import InvalidInput

FIELD = "value_date"


def parse_value_date(value: object) -> date | None:
    """``None`` (no value date: the day it is booked), or a ``YYYY-MM-DD`` text or a date."""
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = value.strip() if isinstance(value, str) else ""
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInput("Give the value date as YYYY-MM-DD.", field=FIELD)


def earliest(today: date, backdate_days: int) -> date:
    """The earliest value date allowed on ``today``."""
    return today - timedelta(days=backdate_days)


def check_value_date(value_date: date, *, today: date, backdate_days: int) -> date:
    """``value_date`` when it is inside the window on ``today``; ``InvalidInput`` otherwise."""
    if value_date > today:
        raise InvalidInput(
            f"The value date {value_date.isoformat()} is in the future (today is "
            f"{today.isoformat()}).",
            field=FIELD,
        )
    first = earliest(today, backdate_days)
    if value_date < first:
        raise InvalidInput(
            f"The value date {value_date.isoformat()} is more than {backdate_days} days "
            f"back: the earliest allowed today is {first.isoformat()}.",
            field=FIELD,
        )
    return value_date
