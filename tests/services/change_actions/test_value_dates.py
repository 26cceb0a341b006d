"""Value dates of staff deposits and withdrawals: inside the backdating window when asked
and again when executed, part of the request's exact change (services, both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.services.change_actions.support import ask, decide
from vaulta.extensions import db
from vaulta.models import Posting, User, utcnow
from vaulta.services.changes import ledger_actions
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger.balances import balance_as_of
from vaulta.services.ledger.value_dates import check_value_date, earliest, parse_value_date

TODAY = date(2026, 11, 20)


def test_the_window_is_today_back_to_the_configured_days() -> None:
    assert earliest(TODAY, 5) == date(2026, 11, 15)
    assert check_value_date(TODAY, today=TODAY, backdate_days=5) == TODAY
    assert check_value_date(date(2026, 11, 15), today=TODAY, backdate_days=5)
    with pytest.raises(InvalidInput, match=r"more than 5 days back.*2026-11-15"):
        check_value_date(date(2026, 11, 14), today=TODAY, backdate_days=5)
    with pytest.raises(InvalidInput, match="in the future") as err:
        check_value_date(date(2026, 11, 21), today=TODAY, backdate_days=5)
    assert err.value.field == "value_date"
    with pytest.raises(InvalidInput, match="more than 0 days"):
        check_value_date(date(2026, 11, 19), today=TODAY, backdate_days=0)


@pytest.mark.parametrize("text", ["2026-13-01", "20261101", "2026-11-1", "x" * 10, 20261101])
def test_a_value_date_is_yyyy_mm_dd(text: object) -> None:
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_value_date(text)


def test_no_value_date_is_none() -> None:
    assert parse_value_date(None) is None
    assert parse_value_date("") is None
    assert parse_value_date(" 2026-11-01 ") == date(2026, 11, 1)


def test_the_value_date_is_part_of_the_exact_change(teller: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 10_00)
    day = (utcnow().date() - timedelta(days=3)).isoformat()
    request = ask(
        teller,
        "ledger.deposit",
        account_id=account.id,
        amount_minor=5_00,
        description="Cash in",
        value_date=day,
    )
    assert request.change["params"]["value_date"] == day
    assert request.change["after"]["value_date"] == day
    assert request.summary.endswith(f"value date {day}")


def test_without_a_value_date_nothing_is_recorded(teller: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 10_00)
    request = ask(
        teller, "ledger.withdrawal", account_id=account.id, amount_minor=5_00, description="Out"
    )
    assert "value_date" not in request.change["params"]
    assert "value_date" not in request.change["after"]


@pytest.mark.parametrize(("days", "words"), [(1, "in the future"), (-6, "more than 5 days")])
def test_asking_outside_the_window_is_refused(teller: User, days: int, words: str) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 10_00)
    day = (utcnow().date() + timedelta(days=days)).isoformat()
    with pytest.raises(InvalidInput, match=words) as err:
        ask(
            teller,
            "ledger.deposit",
            account_id=account.id,
            amount_minor=5_00,
            description="Cash in",
            value_date=day,
        )
    assert err.value.field == "value_date"


def test_the_window_follows_the_setting(app: Flask, teller: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 10_00)
    day = (utcnow().date() - timedelta(days=7)).isoformat()
    params = {"account_id": account.id, "amount_minor": 5_00, "description": "In"}
    with pytest.raises(InvalidInput):
        ask(teller, "ledger.deposit", **params, value_date=day)
    app.config["LEDGER_BACKDATE_DAYS"] = 7
    assert ask(teller, "ledger.deposit", **params, value_date=day).status == "pending"


def test_a_value_date_that_left_the_window_while_waiting_fails(
    monkeypatch: pytest.MonkeyPatch, teller: User, approver: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 10_00)
    now = utcnow()
    day = (now.date() - timedelta(days=5)).isoformat()
    request = ask(
        teller,
        "ledger.deposit",
        account_id=account.id,
        amount_minor=5_00,
        description="Cash in",
        value_date=day,
    )
    monkeypatch.setattr(ledger_actions, "utcnow", lambda: now + timedelta(days=1))
    failed = decide(request, approver)
    assert failed.status == "failed"
    assert f"The value date {day} is more than 5 days back" in (failed.failure_reason or "")
    assert failed.result is None or "transaction_id" not in failed.result


def test_an_approved_backdated_deposit_posts_on_its_value_date(
    teller: User, approver: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 10_00)
    day = utcnow().date() - timedelta(days=4)
    request = ask(
        teller,
        "ledger.deposit",
        account_id=account.id,
        amount_minor=5_00,
        description="Cash in",
        value_date=day.isoformat(),
    )
    done = decide(request, approver)
    assert done.status == "approved"
    postings = db.session.scalars(
        sa.select(Posting).where(Posting.transaction_id == done.result["transaction_id"])
    ).all()
    assert sorted(p.amount_minor for p in postings) == [-5_00, 5_00]
    assert {p.value_date for p in postings} == {day}
    assert balance_as_of(account.id, datetime.combine(day, time.min, tzinfo=UTC)) == 0
    assert balance_as_of(account.id, datetime.combine(day, time.max, tzinfo=UTC)) == 0
    tomorrow = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
    assert balance_as_of(account.id, tomorrow) == 5_00  # the funding is dated today


def test_an_approved_deposit_without_a_value_date_is_dated_today(
    teller: User, approver: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    request = ask(
        teller, "ledger.deposit", account_id=account.id, amount_minor=7_00, description="In"
    )
    done = decide(request, approver)
    dates = db.session.scalars(
        sa.select(Posting.value_date).where(Posting.transaction_id == done.result["transaction_id"])
    ).all()
    assert set(dates) == {utcnow().date()}
