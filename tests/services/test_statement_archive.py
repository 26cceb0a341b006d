"""Monthly statements kept as issued, without HTTP: which months have one, a month is kept
only once its backdating window has closed, and the first stored document wins when two
first requests race."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.statement_support import backdating_closed, backdating_open, open_account_on
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, MonthlyStatement, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.services.errors import Conflict, NotFound
from vaulta.services.reports import statement_archive

THIS_MONTH = utcnow().date().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture
def account(app: Flask, admin: User) -> Account:
    return open_account_on(factories.make_customer().id, LAST_MONTH - timedelta(days=45), admin)


def test_past_months_from_opening_to_last_month() -> None:
    opened = datetime(2025, 11, 30, 23, 59, tzinfo=UTC)
    months = statement_archive.past_months(opened, today=date(2026, 2, 1))
    assert months == [date(2026, 1, 1), date(2025, 12, 1), date(2025, 11, 1)]
    assert statement_archive.past_months(opened, today=date(2025, 11, 30)) == []
    assert len(statement_archive.past_months(opened, today=date(2030, 1, 1))) == 24
    assert statement_archive.last_day(date(2024, 2, 1)) == date(2024, 2, 29)
    assert statement_archive.next_month(date(2025, 12, 1)) == date(2026, 1, 1)


@pytest.mark.parametrize("text", ["2025-1", "2025-13", "25-01", "2025-01-01", "", "x-y"])
def test_a_malformed_month_is_not_found(text: str) -> None:
    with pytest.raises(NotFound):
        statement_archive.parse_month(text)


def test_months_outside_the_accounts_life_have_no_statement(account: Account) -> None:
    statement_archive.check_month(account, LAST_MONTH)
    for month in (THIS_MONTH, (account.opened_at.date() - timedelta(days=31)).replace(day=1)):
        with pytest.raises(NotFound):
            statement_archive.check_month(account, month)


def test_the_backdating_window_decides_when_a_month_is_final(app: Flask) -> None:
    assert app.config["LEDGER_BACKDATE_DAYS"] == 5
    november = date(2026, 11, 1)
    assert statement_archive.window_closes(november) == date(2026, 12, 6)
    assert statement_archive.window_closes(november, 0) == date(2026, 12, 1)
    assert not statement_archive.is_final(november, today=date(2026, 12, 5))
    assert statement_archive.is_final(november, today=date(2026, 12, 6))
    app.config["LEDGER_BACKDATE_DAYS"] = 0
    assert statement_archive.is_final(november, today=date(2026, 12, 1))


def test_a_month_open_to_backdating_is_not_stored(account: Account, admin: User) -> None:
    with clock_set_to(backdating_open(LAST_MONTH)):
        with pytest.raises(Conflict, match="provisional until"):
            statement_archive.store(account, LAST_MONTH, b"%PDF early", actor=admin)
        entry = statement_archive.month_entries(account)[0]
        assert (entry.month, entry.sha256, entry.provisional) == (LAST_MONTH, None, True)
        assert entry.kept_from == statement_archive.window_closes(LAST_MONTH)
    assert statement_archive.stored(account.id, LAST_MONTH) is None
    with clock_set_to(backdating_closed(LAST_MONTH)):
        assert not statement_archive.month_entries(account)[0].provisional


def test_the_first_stored_document_wins(account: Account, admin: User) -> None:
    with clock_set_to(backdating_closed(LAST_MONTH)):
        first = statement_archive.store(account, LAST_MONTH, b"%PDF first", actor=admin)
        again = statement_archive.store(account, LAST_MONTH, b"%PDF second", actor=admin)
    assert first.sha256 == hashlib.sha256(b"%PDF first").hexdigest()
    assert again == first  # the unique (account, month) kept the first one
    assert statement_archive.stored(account.id, LAST_MONTH) == first
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyStatement)) == 1
    issued = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "statement.issued")
    ).all()
    assert len(issued) == 1
    assert issued[0].object_id == str(account.id)
    entries = statement_archive.month_entries(account)
    assert entries[0].month == LAST_MONTH
    assert entries[0].sha256 == first.sha256
    assert all(e.sha256 is None for e in entries[1:])
