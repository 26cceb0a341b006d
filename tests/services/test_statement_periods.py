"""Period statements without HTTP: opening and closing balances are the ledger's as-of
balances, the totals add up, and a bad period is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask

from tests import factories
from tests.statement_support import (
    as_of,
    at,
    day_after,
    deposit_on,
    open_account_on,
    withdraw_on,
)
from vaulta.models import Account, User, utcnow
from vaulta.services import ledger
from vaulta.services.errors import DomainError
from vaulta.services.ledger import statement_periods
from vaulta.services.ledger.balances import balance_as_of

TODAY = utcnow().date()


@pytest.fixture
def dated(app: Flask, admin: User) -> Account:
    """An account opened 80 days ago with entries spread over its life, posted in time
    order (as the bank's clock posts them: ids grow with time)."""
    customer = factories.make_customer()
    account = open_account_on(customer.id, TODAY - timedelta(days=80), admin)
    entries = [(75, 50_000), (60, 12_345), (59, -20_000), (41, 999), (40, -3_000)]
    entries += [(20, 70_000), (19, -1_000), (3, 1), (2, -5)]
    for days_ago, amount in entries:
        day = TODAY - timedelta(days=days_ago)
        if amount > 0:
            deposit_on(account, day, amount, admin)
        else:
            withdraw_on(account, day, -amount, admin)
    return account


@pytest.mark.parametrize(
    ("start", "end"),
    [(80, 0), (60, 41), (59, 59), (58, 42), (39, 21), (30, 25), (100, 70), (1, 0)],
)
def test_opening_and_closing_are_the_ledgers_as_of_balances(
    dated: Account, start: int, end: int
) -> None:
    date_from, date_to = TODAY - timedelta(days=start), TODAY - timedelta(days=end)
    period = statement_periods.period_statement(dated, date_from, date_to)
    assert period.opening_minor == as_of(dated, date_from)
    assert period.closing_minor == as_of(dated, day_after(date_to))
    assert period.money_in_minor - period.money_out_minor == (
        period.closing_minor - period.opening_minor
    )
    assert all(date_from <= row.value_date <= date_to for row in period.rows)
    assert period.opening_minor == balance_as_of(dated.id, at(date_from, 0))
    assert period.closing_minor == balance_as_of(dated.id, at(day_after(date_to), 0))
    balance = period.opening_minor
    for row in period.rows:
        balance += row.amount_minor
        assert row.balance_minor == balance


def test_a_period_without_entries_keeps_its_balance(dated: Account) -> None:
    day = TODAY - timedelta(days=30)
    period = statement_periods.period_statement(dated, day, day + timedelta(days=5))
    assert period.rows == []
    assert period.opening_minor == period.closing_minor == as_of(dated, day) == 40_344
    assert (period.money_in_minor, period.money_out_minor) == (0, 0)


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [(date(2025, 2, 1), date(2025, 1, 31)), (date(2024, 1, 1), date(2025, 1, 1))],
)
def test_a_bad_period_is_a_400(dated: Account, date_from: date, date_to: date) -> None:
    with pytest.raises(DomainError) as refused:
        statement_periods.period_statement(dated, date_from, date_to)
    assert refused.value.status == 400
    assert refused.value.field == "to"


def test_a_period_of_too_many_entries_is_a_400(
    dated: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(statement_periods, "MAX_ENTRIES", 4)
    four = statement_periods.period_statement(
        dated, TODAY - timedelta(days=60), TODAY - timedelta(days=40)
    )
    assert len(four.rows) == 4
    with pytest.raises(DomainError) as refused:
        statement_periods.period_statement(dated, TODAY - timedelta(days=80), TODAY)
    assert refused.value.status == 400
    assert "CSV" in refused.value.message


def test_a_backdated_entry_is_in_the_period_of_its_value_date(dated: Account, admin: User) -> None:
    """Booked today, dated two days back: the period of its value date lists it, and its
    opening and closing balances still equal the as-of balances."""
    value_day = TODAY - timedelta(days=2)
    ledger.deposit(dated, 4_200, actor=admin, description="Backdated", value_date=value_day)
    period = statement_periods.period_statement(dated, value_day, value_day)
    assert [(r.description, r.amount_minor, r.value_date) for r in period.rows] == [
        ("Rent", -5, value_day),
        ("Backdated", 4_200, value_day),
    ]
    assert period.rows[1].created_at.date() == TODAY
    assert period.opening_minor == as_of(dated, value_day)
    assert period.closing_minor == as_of(dated, day_after(value_day))
    assert period.closing_minor == balance_as_of(dated.id, at(day_after(value_day), 0))
    earlier = statement_periods.period_statement(dated, value_day - timedelta(days=1), value_day)
    assert earlier.closing_minor == period.closing_minor
