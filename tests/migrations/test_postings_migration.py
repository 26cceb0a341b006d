"""Ledger v2's backfill (5ac63abdd2e9), tested with rows on SQLite and PostgreSQL: every
transaction gets its two postings on its booking date, in batches, skipping those that
already have postings; the downgrade refuses to lose multi-leg or backdated entries
unless forced."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from pytest_alembic import MigrationContext

BACKFILL_REV = "5ac63abdd2e9"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LATE = datetime(2026, 11, 3, 23, 59, 59, 999_999, tzinfo=UTC)
# Ids in three batches of 100,000 (the revision's BATCH), with gaps.
TRANSACTIONS = {
    1: (1, 2, 100, NOW),
    2: (2, 3, 40, LATE),
    100_000: (3, 1, 25, NOW),
    100_001: (1, 3, 7, LATE),
    250_000: (1, 2, 9, NOW),
}
QUERY = sa.text(
    "SELECT transaction_id, account_id, amount_minor, currency, value_date FROM postings "
    "ORDER BY transaction_id, amount_minor"
)


def _base_rows(runner: MigrationContext) -> None:
    """A staff login, a system account and two customer accounts (EUR)."""
    runner.insert_into(
        "customers",
        {
            "id": 1,
            "customer_number": "C10000001",
            "full_name": "Ada",
            "status": "active",
            "created_at": NOW,
            "updated_at": NOW,
        },
    )
    runner.insert_into(
        "users",
        {
            "id": 1,
            "email": "a@x.test",
            "password_hash": "x",
            "role": "staff",
            "full_name": "A",
            "is_active": True,
            "session_token": "t1",
            "created_at": NOW,
        },
    )
    for account_id, kind, customer_id in (
        (1, "system", None),
        (2, "customer", 1),
        (3, "customer", 1),
    ):
        runner.insert_into(
            "accounts",
            {
                "id": account_id,
                "number": f"00000000{account_id}0",
                "customer_id": customer_id,
                "kind": kind,
                "currency": "EUR",
                "balance_minor": 0,
                "status": "active",
                "opened_at": NOW,
            },
        )


def _transactions(runner: MigrationContext) -> None:
    _base_rows(runner)
    for tx_id, (debit, credit, amount, created) in TRANSACTIONS.items():
        runner.insert_into(
            "transactions",
            {
                "id": tx_id,
                "debit_account_id": debit,
                "credit_account_id": credit,
                "amount_minor": amount,
                "currency": "EUR",
                "kind": "transfer",
                "description": "Move",
                "created_by_id": 1,
                "created_at": created,
            },
        )


def _posting(runner: MigrationContext, tx_id: int, account: int, amount: int, day: date) -> None:
    runner.insert_into(
        "postings",
        {
            "transaction_id": tx_id,
            "account_id": account,
            "amount_minor": amount,
            "currency": "EUR",
            "value_date": day,
            "created_at": NOW,
        },
    )


def _postings(engine: sa.Engine) -> list[tuple[int, int, int, str, date]]:
    with engine.connect() as conn:
        rows = conn.execute(QUERY).all()
    return [(r[0], r[1], r[2], r[3], _day(r[4])) for r in rows]


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _expected() -> list[tuple[int, int, int, str, date]]:
    rows = []
    for tx_id, (debit, credit, amount, created) in TRANSACTIONS.items():
        rows += [
            (tx_id, debit, -amount, "EUR", created.date()),
            (tx_id, credit, amount, "EUR", created.date()),
        ]
    return rows


def test_every_transaction_gets_its_two_postings_on_its_booking_date(
    alembic_runner: MigrationContext, alembic_engine: sa.Engine
) -> None:
    alembic_runner.migrate_up_before(BACKFILL_REV)
    _transactions(alembic_runner)
    # Posted by the new code after the expand revision (or by an earlier run): skipped.
    _posting(alembic_runner, 100_001, 1, -7, LATE.date())
    _posting(alembic_runner, 100_001, 3, 7, LATE.date())

    alembic_runner.migrate_up_one()
    assert _postings(alembic_engine) == _expected()
    assert LATE.date() == date(2026, 11, 3)  # the UTC date, whatever the server's zone

    alembic_runner.migrate_down_one()
    assert _postings(alembic_engine) == []
    alembic_runner.migrate_up_one()  # and again: the backfill is repeatable
    assert _postings(alembic_engine) == _expected()


@pytest.mark.parametrize("lossy", ["a third leg", "a backdated entry"])
def test_the_downgrade_refuses_to_lose_entries_unless_forced(
    alembic_runner: MigrationContext,
    alembic_engine: sa.Engine,
    monkeypatch: pytest.MonkeyPatch,
    lossy: str,
) -> None:
    alembic_runner.migrate_up_before(BACKFILL_REV)
    _transactions(alembic_runner)
    if lossy == "a third leg":
        # A payment with its fee: payer -107, payee +100, bank +7.
        _posting(alembic_runner, 100_001, 1, -107, LATE.date())
        _posting(alembic_runner, 100_001, 3, 100, LATE.date())
        _posting(alembic_runner, 100_001, 2, 7, LATE.date())
    else:
        _posting(alembic_runner, 100_001, 1, -7, date(2026, 10, 30))
        _posting(alembic_runner, 100_001, 3, 7, date(2026, 10, 30))
    alembic_runner.migrate_up_one()

    monkeypatch.delenv("VAULTA_FORCE_DOWNGRADE", raising=False)
    with pytest.raises(RuntimeError, match=r"transaction\(s\) 100001 .*VAULTA_FORCE_DOWNGRADE=1"):
        alembic_runner.migrate_down_one()
    assert len(_postings(alembic_engine)) == 8 + (3 if lossy == "a third leg" else 2)

    monkeypatch.setenv("VAULTA_FORCE_DOWNGRADE", "1")
    alembic_runner.migrate_down_one()
    assert _postings(alembic_engine) == []
