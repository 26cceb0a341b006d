"""Transaction search without HTTP: each filter, combinations, dates, amounts, keyset pages, CSV."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta.extensions import db
from vaulta.models import Account, Transaction, User
from vaulta.services import ledger
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.ledger import transaction_search
from vaulta.services.ledger.transaction_search import TransactionFilters as F


@dataclass
class Book:
    a: Account  # EUR
    b: Account  # EUR
    c: Account  # USD
    salary: Transaction  # deposit a 100.00 EUR
    cash: Transaction  # deposit b 50.00 EUR
    rent: Transaction  # transfer a -> b 25.00 EUR
    atm: Transaction  # withdrawal b 10.00 EUR
    usd: Transaction  # deposit c 70.00 USD


@pytest.fixture
def book(app: Flask, admin: User) -> Book:
    a = factories.make_account(factories.make_customer(), "EUR")
    b = factories.make_account(factories.make_customer(), "EUR")
    c = factories.make_account(factories.make_customer(), "USD")
    salary = ledger.deposit(a, 10_000, actor=admin, description="Salary March")
    cash = ledger.deposit(b, 5_000, actor=admin, description="Cash in")
    rent = ledger.transfer(a, b, 2_500, actor=admin, description="Rent 100%_flat")
    atm = ledger.withdraw(b, 1_000, actor=admin, description="ATM")
    usd = ledger.deposit(c, 7_000, actor=admin, description="SALARY in dollars")
    return Book(a, b, c, salary, cash, rent, atm, usd)


def ids(filters: F, **kwargs: object) -> list[int]:
    return [tx.id for tx in transaction_search.search(filters, **kwargs).rows]  # type: ignore[arg-type]


def set_created_at(tx: Transaction, when: datetime) -> None:
    """Tests only: place a posted row at a chosen instant to probe date boundaries."""
    db.session.execute(
        sa.update(Transaction).where(Transaction.id == tx.id).values(created_at=when)
    )
    db.session.commit()


def test_no_filters_lists_everything_newest_first(book: Book) -> None:
    everything = ids(F())
    assert everything == sorted(everything, reverse=True)
    assert everything[:5] == [book.usd.id, book.atm.id, book.rent.id, book.cash.id, book.salary.id]


def test_account_matches_either_side(book: Book) -> None:
    assert ids(F(account_number=book.a.number)) == [book.rent.id, book.salary.id]
    assert ids(F(account_number=book.b.number)) == [book.atm.id, book.rent.id, book.cash.id]
    assert ids(F(account_number="000000000000")) == []


def test_kind_and_currency(book: Book) -> None:
    assert ids(F(kind="transfer")) == [book.rent.id]
    assert ids(F(kind="withdrawal")) == [book.atm.id]
    assert ids(F(currency="USD")) == [book.usd.id]
    assert book.usd.id not in ids(F(currency="EUR"))


def test_text_is_case_insensitive_and_takes_wildcards_literally(book: Book) -> None:
    assert ids(F(text="salary")) == [book.usd.id, book.salary.id]
    assert ids(F(text="  SALARY march ")) == [book.salary.id]
    assert ids(F(text="100%_")) == [book.rent.id]
    assert ids(F(text="%")) == [book.rent.id]
    assert ids(F(text="_")) == [book.rent.id]


def test_amount_range_is_inclusive_in_minor_units(book: Book) -> None:
    eur = "EUR"
    assert ids(F(currency=eur, min_amount_minor=5_000)) == [book.cash.id, book.salary.id]
    assert ids(F(currency=eur, max_amount_minor=2_500)) == [book.atm.id, book.rent.id]
    assert ids(F(currency=eur, min_amount_minor=2_500, max_amount_minor=5_000)) == [
        book.rent.id,
        book.cash.id,
    ]
    assert ids(F(currency=eur, min_amount_minor=2_501, max_amount_minor=4_999)) == []


def test_amount_range_needs_a_currency_and_an_order(book: Book) -> None:
    with pytest.raises(InvalidInput) as err:
        transaction_search.search(F(min_amount_minor=100))
    assert err.value.field == "currency"
    with pytest.raises(InvalidInput) as err:
        transaction_search.search(F(currency="EUR", min_amount_minor=200, max_amount_minor=100))
    assert err.value.field == "max_amount"


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (F(kind="gift"), "kind"),
        (F(currency="XXX"), "currency"),
        (F(date_from=date(2026, 3, 2), date_to=date(2026, 3, 1)), "date_to"),
    ],
)
def test_bad_filters_are_refused_on_their_field(app: Flask, filters: F, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        transaction_search.search(filters)
    assert err.value.field == field
    with pytest.raises(InvalidInput):
        transaction_search.iter_search(filters)  # refused before any row is read


def test_date_range_is_whole_utc_days_inclusive(book: Book) -> None:
    set_created_at(book.salary, datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=UTC))
    set_created_at(book.cash, datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC))
    set_created_at(book.rent, datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC))
    set_created_at(book.atm, datetime(2026, 3, 2, 0, 0, 0, tzinfo=UTC))
    set_created_at(book.usd, datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    march_1 = date(2026, 3, 1)
    assert ids(F(date_from=march_1, date_to=march_1)) == [book.rent.id, book.cash.id]
    assert ids(F(date_from=date(2026, 3, 2))) == [book.usd.id, book.atm.id]
    found = ids(F(date_to=date(2026, 2, 28)))
    assert book.salary.id in found
    assert book.cash.id not in found


def test_filters_combine(book: Book) -> None:
    assert ids(F(account_number=book.a.number, kind="transfer", text="rent")) == [book.rent.id]
    assert ids(F(account_number=book.a.number, kind="withdrawal")) == []
    combined = F(account_number=book.b.number, currency="EUR", max_amount_minor=2_500, text="m")
    assert ids(combined) == [book.atm.id]


def test_rows_come_with_their_accounts(book: Book) -> None:
    page = transaction_search.search(F(kind="transfer"))
    db.session.expunge_all()  # the accounts must already be loaded, not fetched on access
    tx = page.rows[0]
    assert (tx.debit_account.number, tx.credit_account.number) == (book.a.number, book.b.number)


def test_keyset_pages_cover_every_row_once(book: Book) -> None:
    everything = ids(F())
    seen: list[int] = []
    before = None
    pages = 0
    while True:
        page = transaction_search.search(F(), before_id=before, limit=3)
        seen += [tx.id for tx in page.rows]
        pages += 1
        if page.next_before_id is None:
            break
        assert page.next_before_id == page.rows[-1].id
        before = page.next_before_id
    assert seen == everything
    assert pages == -(-len(everything) // 3)


def test_a_full_last_page_has_no_next_cursor(book: Book) -> None:
    count = len(ids(F(currency="EUR")))
    assert transaction_search.search(F(currency="EUR"), limit=count).next_before_id is None
    assert transaction_search.search(F(currency="EUR"), limit=count - 1).next_before_id is not None


def test_keyset_pages_keep_the_filters(book: Book) -> None:
    first = transaction_search.search(F(account_number=book.b.number), limit=2)
    assert [tx.id for tx in first.rows] == [book.atm.id, book.rent.id]
    rest = transaction_search.search(
        F(account_number=book.b.number), before_id=first.next_before_id, limit=2
    )
    assert [tx.id for tx in rest.rows] == [book.cash.id]
    assert rest.next_before_id is None


def test_csv_iterator_yields_every_row_in_order_in_chunks(
    book: Book, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transaction_search, "CSV_CHUNK_ROWS", 2)  # several chunks
    rows = list(transaction_search.iter_search(F()))
    assert [r.id for r in rows] == ids(F(), limit=200)
    rent = next(r for r in rows if r.id == book.rent.id)
    assert (rent.debit_number, rent.credit_number) == (book.a.number, book.b.number)
    assert (rent.amount_minor, rent.currency, rent.kind) == (2_500, "EUR", "transfer")
    assert rent.created_by_email == admin.email
    assert rent.reverses_id is None
    filtered = list(transaction_search.iter_search(F(text="salary")))
    assert [r.id for r in filtered] == [book.usd.id, book.salary.id]


def test_detail_shows_who_posted_and_the_reversal_links(book: Book, admin: User) -> None:
    reversal = ledger.reverse(book.rent.id, actor=admin, reason="Wrong payee")
    original = transaction_search.get_detail(book.rent.id)
    assert original.posted_by.email == admin.email
    assert original.reversed_by is not None
    assert original.reversed_by.id == reversal.id
    assert original.reverses is None
    assert original.transaction.debit_account.number == book.a.number
    linked = transaction_search.get_detail(reversal.id)
    assert linked.reverses is not None
    assert linked.reverses.id == book.rent.id
    assert linked.reversed_by is None
    with pytest.raises(NotFound):
        transaction_search.get_detail(999_999)
