"""Statements without HTTP: running balance across pages and the streamed export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import sql_statements
from vaulta.extensions import db
from vaulta.models import Account, Transaction, User
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import NotFound
from vaulta.services.ledger import statements


@pytest.fixture
def busy(app: Flask, admin: User) -> tuple[Account, Account]:
    """An account with deposits, withdrawals, transfers both ways and a reversal."""
    mine = factories.make_account(factories.make_customer(), "EUR")
    other = factories.make_account(factories.make_customer(), "EUR", 50_000)
    ledger.deposit(mine, 10_000, actor=admin, description="Salary")
    ledger.withdraw(mine, 2_500, actor=admin, description="ATM")
    ledger.transfer(other, mine, 7_000, actor=admin, description="Rent share")
    paid = ledger.transfer(mine, other, 1_234, actor=admin, description="Dinner")
    ledger.deposit(other, 999, actor=admin, description="Not mine")
    ledger.reverse(paid.id, actor=admin, reason="Duplicate")
    ledger.withdraw(mine, 66, actor=admin, description="Fee")
    ledger.deposit(mine, 1, actor=admin, description="Interest")
    return mine, other


def expected_oldest_first(account: Account) -> list[tuple[int, int, int]]:
    """(transaction id, signed amount, balance after) computed the slow, obvious way."""
    rows = db.session.scalars(
        sa.select(Transaction)
        .where(
            sa.or_(
                Transaction.debit_account_id == account.id,
                Transaction.credit_account_id == account.id,
            )
        )
        .order_by(Transaction.id)
    )
    balance, out = 0, []
    for tx in rows:
        signed = tx.amount_minor if tx.credit_account_id == account.id else -tx.amount_minor
        balance += signed
        out.append((tx.id, signed, balance))
    return out


def as_tuples(rows: list[statements.StatementRow]) -> list[tuple[int, int, int]]:
    return [(r.id, r.amount_minor, r.balance_minor) for r in rows]


@pytest.mark.parametrize("limit", [1, 3, 8, 50])
def test_pages_walk_back_with_a_correct_running_balance(
    busy: tuple[Account, Account], limit: int
) -> None:
    mine, other = busy
    seen: list[statements.StatementRow] = []
    before_id = None
    for _ in range(20):
        page = statements.statement_page(mine, before_id=before_id, limit=limit)
        assert len(page.rows) <= limit
        seen.extend(page.rows)
        before_id = page.next_before_id
        if before_id is None:
            break
    expected = expected_oldest_first(mine)
    assert len(expected) == 7
    assert as_tuples(seen) == list(reversed(expected))
    db.session.refresh(mine)
    assert seen[0].balance_minor == mine.balance_minor
    assert [r.counterparty for r in seen if r.description in ("Rent share", "Dinner")] == [
        other.number,
        other.number,
    ]
    reversal = next(r for r in seen if r.kind == "reversal")
    assert reversal.amount_minor == 1_234


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_account_statement_reads_the_account_with_its_pages(
    busy: tuple[Account, Account], limit: int
) -> None:
    mine, _ = busy
    seen: list[statements.StatementRow] = []
    before_id = None
    for _ in range(20):
        facts, page = statements.account_statement(mine.id, before_id=before_id, limit=limit)
        assert page == statements.statement_page(mine, before_id=before_id, limit=limit)
        seen.extend(page.rows)
        before_id = page.next_before_id
        if before_id is None:
            break
    assert as_tuples(seen) == list(reversed(expected_oldest_first(mine)))
    db.session.refresh(mine)
    assert mine.customer is not None
    assert facts == statements.AccountFacts(
        mine.id,
        mine.number,
        "customer",
        "EUR",
        mine.balance_minor,
        "active",
        None,
        statements.CustomerFacts(
            mine.customer.id, mine.customer.full_name, mine.customer.customer_number
        ),
    )
    assert not facts.is_system
    assert seen[0].balance_minor == facts.balance_minor


def test_account_statement_of_system_empty_and_missing_accounts(app: Flask) -> None:
    system = accounts.system_account("EUR")
    facts, page = statements.account_statement(system.id, before_id=None, limit=10)
    assert facts.is_system
    assert facts.customer is None
    assert page == statements.StatementPage([], None)
    account = factories.make_account(factories.make_customer(), "EUR", 500)
    _, page = statements.account_statement(account.id, before_id=None, limit=10)
    assert [(r.description, r.balance_minor) for r in page.rows] == [("Funding", 500)]
    facts, page = statements.account_statement(account.id, before_id=page.rows[0].id, limit=10)
    assert facts.balance_minor == 500
    assert page == statements.StatementPage([], None)
    with pytest.raises(NotFound):
        statements.account_statement(999_999, before_id=None, limit=10)


def test_page_of_an_account_without_transactions(app: Flask) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    page = statements.statement_page(account, before_id=None, limit=10)
    assert page.rows == []
    assert page.next_before_id is None


def test_last_page_has_no_cursor(busy: tuple[Account, Account]) -> None:
    mine, _ = busy
    assert statements.statement_page(mine, before_id=None, limit=7).next_before_id is None
    assert statements.statement_page(mine, before_id=None, limit=6).next_before_id is not None


def test_export_streams_every_row_oldest_first(app: Flask, busy: tuple[Account, Account]) -> None:
    mine, _ = busy
    with sql_statements() as seen:
        rows = statements.iter_statement(mine, chunk=3)
        first = next(rows)
        queries_for_first_row = len([s for s in seen if "FROM transactions" in s])
        rest = list(rows)
    queries = [s for s in seen if "FROM transactions" in s]
    # The first row needs the bounds, the opening balance and one chunk, not all of them.
    assert queries_for_first_row <= 3
    assert len(queries) > queries_for_first_row
    assert as_tuples([first, *rest]) == expected_oldest_first(mine)


def test_export_date_range(app: Flask, admin: User, busy: tuple[Account, Account]) -> None:
    mine, _ = busy
    today = datetime.now(UTC).date()
    tomorrow, yesterday = today + timedelta(days=1), today - timedelta(days=1)
    everything = expected_oldest_first(mine)
    assert as_tuples(list(statements.iter_statement(mine, date_from=today))) == everything
    assert as_tuples(list(statements.iter_statement(mine, date_to=today))) == everything
    assert list(statements.iter_statement(mine, date_from=tomorrow)) == []
    assert list(statements.iter_statement(mine, date_to=yesterday)) == []
    assert list(statements.iter_statement(mine, date_from=tomorrow, date_to=yesterday)) == []


def test_export_of_a_middle_range_keeps_the_running_balance(
    app: Flask, busy: tuple[Account, Account]
) -> None:
    mine, _ = busy
    everything = expected_oldest_first(mine)
    # Test data only: spread the posting dates over three days (the app never edits rows).
    ids = [tx_id for tx_id, _, _ in everything]
    base = datetime(2030, 1, 10, 12, tzinfo=UTC)
    for index, tx_id in enumerate(ids):
        day = base + timedelta(days=index // 3)
        db.session.execute(
            sa.update(Transaction).where(Transaction.id == tx_id).values(created_at=day)
        )
    db.session.commit()
    middle = list(
        statements.iter_statement(mine, date_from=base.date() + timedelta(days=1), date_to=None)
    )
    assert as_tuples(middle) == everything[3:]
    only_day_two = statements.iter_statement(
        mine, date_from=base.date() + timedelta(days=1), date_to=base.date() + timedelta(days=1)
    )
    assert as_tuples(list(only_day_two)) == everything[3:6]
