"""Bulk loading (services.bulk_load): indexes and foreign keys come back as they were, a
failed load leaves nothing behind, and SQLite timestamps read back exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import count_rows
from vaulta.extensions import db
from vaulta.models import Transaction, User
from vaulta.ops.seeding.bulk_load import loading, write_rows
from vaulta.services.unit_of_work import write_transaction

TABLE = Transaction.__table__
COLUMNS = "debit_account_id credit_account_id amount_minor currency kind description "
COLUMNS += "created_by_id created_at"


def _schema() -> tuple[set[str], set[str]]:
    """The names of the transactions table's indexes and foreign keys, as the database has them."""
    with db.engine.connect() as conn:
        inspector = sa.inspect(conn)
        indexes = {str(i["name"]) for i in inspector.get_indexes("transactions")}
        foreign_keys = {str(fk["name"]) for fk in inspector.get_foreign_keys("transactions")}
    return indexes, foreign_keys


def _rows(admin: User, debit: int, credit: int, times: list[datetime]) -> list[tuple]:
    return [(debit, credit, 100, "EUR", "transfer", "Loaded", admin.id, t) for t in times]


def test_a_load_puts_indexes_and_foreign_keys_back(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR")
    b = factories.make_account(factories.make_customer(), "EUR")
    before, before_count = _schema(), count_rows(Transaction)
    assert len(before[0]) >= 4
    assert len(before[1]) >= 3
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    times = [start, start + timedelta(microseconds=7), start + timedelta(days=1, seconds=1)]
    with write_transaction() as s, loading(s, TABLE):
        write_rows(s, TABLE, COLUMNS, iter(_rows(admin, a.id, b.id, times)), 2, lambda _n: None)
    assert _schema() == before
    assert count_rows(Transaction) == before_count + 3
    loaded = db.session.scalars(
        sa.select(Transaction.created_at).where(Transaction.description == "Loaded")
    ).all()
    assert sorted(loaded) == times  # the same instants, microseconds included


def _load(admin: User, rows: list[tuple]) -> None:
    with write_transaction() as s, loading(s, TABLE):
        write_rows(s, TABLE, COLUMNS, iter(rows), 10, lambda _n: None)


def test_a_failed_load_leaves_the_table_as_it_was(app: Flask, admin: User) -> None:
    a = factories.make_account(factories.make_customer(), "EUR")
    b = factories.make_account(factories.make_customer(), "EUR")
    before, before_count = _schema(), count_rows(Transaction)
    # The second row credits an account that does not exist: the foreign key refuses it,
    # when the row goes in (SQLite) or when the constraint is added back (PostgreSQL).
    now = datetime.now(UTC)
    rows = _rows(admin, a.id, b.id, [now]) + _rows(admin, a.id, b.id + 1_000_000, [now])
    with pytest.raises(sa.exc.IntegrityError):
        _load(admin, rows)
    assert _schema() == before
    assert count_rows(Transaction) == before_count


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 3, 4, 5, tzinfo=ZoneInfo("Europe/Paris"))],
    ids=["naive", "paris"],
)
def test_timestamps_not_in_utc_are_refused_on_sqlite(sqlite_app: Flask, when: datetime) -> None:
    admin = factories.make_admin()
    a = factories.make_account(factories.make_customer(), "EUR")
    b = factories.make_account(factories.make_customer(), "EUR")
    with pytest.raises(ValueError, match="not a UTC timestamp"):
        _load(admin, _rows(admin, a.id, b.id, [when]))
