"""Statements without HTTP: running balance across pages and the streamed export, in
value-date order (postings ordered by (value_date, id))."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import sql_statements
from vaulta.extensions import db
from vaulta.models import Account, Posting, User
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
    """(transaction id, signed amount, balance after) computed the slow, obvious way: the
    account's postings by value date, then id."""
    rows = db.session.scalars(
        sa.select(Posting)
        .where(Posting.account_id == account.id)
        .order_by(Posting.value_date, Posting.id)
    )
    balance, out = 0, []
    for posting in rows:
        balance += posting.amount_minor
        out.append((posting.transaction_id, posting.amount_minor, balance))
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
    facts, page = statements.account_statement(
        account.id, before_id=page.rows[0].posting_id, limit=10
    )
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
        queries_for_first_row = len([s for s in seen if "FROM postings" in s])
        rest = list(rows)
    queries = [s for s in seen if "FROM postings" in s]
    # The first row needs the opening balance (with the range's last id) and one chunk.
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
    # Test data only: spread the value dates over three days (the app never edits rows).
    ids = [tx_id for tx_id, _, _ in everything]
    base = datetime(2030, 1, 10, 12, tzinfo=UTC)
    for index, tx_id in enumerate(ids):
        day = (base + timedelta(days=index // 3)).date()
        db.session.execute(
            sa.update(Posting)
            .where(Posting.transaction_id == tx_id, Posting.account_id == mine.id)
            .values(value_date=day)
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


@pytest.fixture
def backdated(app: Flask, admin: User) -> Account:
    """Entries booked today in this order, dated: today, 3 days back, today, 1 day back."""
    today = datetime.now(UTC).date()
    mine = factories.make_account(factories.make_customer(), "EUR")
    for amount, days in ((10_000, 0), (500, 3), (-2_000, 0), (70, 1)):
        day = today - timedelta(days=days)
        if amount > 0:
            ledger.deposit(mine, amount, actor=admin, description=f"In {days}", value_date=day)
        else:
            ledger.withdraw(mine, -amount, actor=admin, description="Out", value_date=day)
    return mine


def _walk_pages(account: Account, limit: int) -> list[statements.StatementRow]:
    seen: list[statements.StatementRow] = []
    before_id = None
    for _ in range(20):
        page = statements.statement_page(account, before_id=before_id, limit=limit)
        seen.extend(page.rows)
        before_id = page.next_before_id
        if before_id is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_backdated_entries_take_their_place_by_value_date(backdated: Account, limit: int) -> None:
    today = datetime.now(UTC).date()
    seen = _walk_pages(backdated, limit)
    assert [(r.value_date, r.amount_minor) for r in seen] == [
        (today, -2_000),
        (today, 10_000),
        (today - timedelta(days=1), 70),
        (today - timedelta(days=3), 500),
    ]
    assert [r.balance_minor for r in seen] == [8_570, 10_570, 570, 500]
    assert all(r.created_at.date() == today for r in seen)
    exported = list(statements.iter_statement(backdated, chunk=limit))
    assert as_tuples(exported) == list(reversed(as_tuples(seen)))
    assert as_tuples(exported) == expected_oldest_first(backdated)


def test_an_export_by_value_date_range(backdated: Account) -> None:
    today = datetime.now(UTC).date()
    two_days = statements.iter_statement(backdated, date_from=today - timedelta(days=2), chunk=1)
    assert [(r.amount_minor, r.balance_minor) for r in two_days] == [
        (70, 570),
        (10_000, 10_570),
        (-2_000, 8_570),
    ]
    only_old = statements.iter_statement(backdated, date_to=today - timedelta(days=2))
    assert [(r.amount_minor, r.balance_minor) for r in only_old] == [(500, 500)]
    long_ago = statements.iter_statement(
        backdated, date_from=date(2000, 1, 1), date_to=date(2000, 1, 2)
    )
    assert list(long_ago) == []


def test_a_cursor_of_another_account_gives_an_empty_page(
    backdated: Account, busy: tuple[Account, Account]
) -> None:
    theirs = statements.statement_page(busy[0], before_id=None, limit=1).rows[0].posting_id
    assert statements.statement_page(backdated, before_id=theirs, limit=5).rows == []


@pytest.mark.parametrize("shape", ["newest", "older", "export"])
def test_statement_queries_read_the_value_date_index(
    busy: tuple[Account, Account], shape: str
) -> None:
    """PostgreSQL: a page (newest or older, its anchor too) and an export chunk read the
    account's postings through ix_postings_account_id_value_date_id, never a table scan."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    mine, _ = busy
    cursor = statements.statement_page(mine, before_id=None, limit=2).next_before_id
    query, params = {
        "newest": (statements._account_query(False), {"limit": 3}),
        "older": (statements._account_query(True), {"limit": 3, "below": cursor}),
        "export": (
            statements._rows_query(False, True, False),
            {"limit": 3, "after_date": date.min, "after": 0, "to_date": date.max, "last_id": 10**9},
        ),
    }[shape]
    with db.engine.connect() as conn:
        compiled = query.compile(dialect=conn.dialect)
        bound = compiled.construct_params({"account_id": mine.id, **params})
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {compiled}", bound).scalars())
    assert "ix_postings_account_id_value_date_id" in plan
    assert "Seq Scan on postings" not in plan
