"""As-of balances by value date without HTTP (both databases): the rule (value date before
the instant's UTC date, or that date and booked at or before the instant), backdated
entries, and properties: far in the future it is the stored balance, and it agrees with
the slow sum over the postings at every instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import factories
from vaulta.extensions import db
from vaulta.models import Account, Posting, User
from vaulta.models.base import clock_set_to
from vaulta.services import ledger
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.ledger import balances
from vaulta.services.ledger.balances import balance_as_of

DAY = date(2026, 11, 20)
FAR = datetime(9999, 1, 1, tzinfo=UTC)


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def stored(account: Account) -> int:
    return int(db.session.scalar(sa.select(Account.balance_minor).where(Account.id == account.id)))


def slow_as_of(account: Account, instant: datetime) -> int:
    """The rule, written out over every posting of the account."""
    total = 0
    for posting in db.session.scalars(sa.select(Posting).where(Posting.account_id == account.id)):
        booked = posting.created_at.astimezone(UTC)
        if posting.value_date < instant.date() or (
            posting.value_date == instant.date() and booked <= instant
        ):
            total += posting.amount_minor
    return total


@pytest.fixture
def account(app: Flask) -> Account:
    return factories.make_account(factories.make_customer(), "EUR")


def test_a_backdated_entry_counts_from_its_value_date(account: Account, admin: User) -> None:
    with clock_set_to(at(DAY, 9)):
        ledger.deposit(account, 10_000, actor=admin, description="Today")
    with clock_set_to(at(DAY, 15)):
        ledger.deposit(account, 500, actor=admin, description="Late", value_date=DAY - timedelta(3))
    assert balance_as_of(account.id, at(DAY - timedelta(3), 0)) == 0
    # Dated the 17th but booked on the 20th: during the 17th it was not booked yet (the
    # rule compares booking times on the value date itself); from the 18th on it counts.
    assert balance_as_of(account.id, at(DAY - timedelta(3), 23, 59)) == 0
    assert balance_as_of(account.id, at(DAY - timedelta(2), 0)) == 500
    assert balance_as_of(account.id, at(DAY - timedelta(1), 23, 59)) == 500
    assert balance_as_of(account.id, at(DAY, 0)) == 500
    # On its own value date an entry counts from the moment it was booked.
    assert balance_as_of(account.id, at(DAY, 8, 59)) == 500
    assert balance_as_of(account.id, at(DAY, 9)) == 10_500
    assert balance_as_of(account.id, FAR) == stored(account) == 10_500


def test_an_instant_in_another_zone_is_read_in_utc(account: Account, admin: User) -> None:
    with clock_set_to(at(DAY, 1)):
        ledger.deposit(account, 700, actor=admin, description="Early")
    # 2026-11-20T00:30+02:00 is 2026-11-19T22:30Z: the day before.
    east = datetime(2026, 11, 20, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert balance_as_of(account.id, east) == 0
    assert balance_as_of(account.id, at(DAY, 1)) == 700


def test_unknown_accounts_and_naive_instants_are_refused(account: Account) -> None:
    with pytest.raises(NotFound):
        balance_as_of(999_999, FAR)
    with pytest.raises(InvalidInput, match="time zone"):
        balance_as_of(account.id, datetime(2026, 11, 1))
    assert balance_as_of(account.id, FAR) == 0


def test_the_query_reads_one_index_range(account: Account) -> None:
    """PostgreSQL: the postings after the instant come from the (account_id, value_date,
    id) index, never a scan of the table."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    with db.engine.connect() as conn:
        compiled = balances._as_of_query().compile(dialect=conn.dialect)
        params = {"account_id": account.id, "day": DAY, "instant": at(DAY)}
        conn.exec_driver_sql("SET enable_seqscan = off")
        bound = compiled.construct_params(params)
        plan = conn.exec_driver_sql(f"EXPLAIN {compiled}", bound).scalars().all()
    assert "ix_postings_account_id_value_date_id" in "\n".join(plan)


MOVES = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=5_000),  # amount
        st.booleans(),  # deposit or (when covered) withdrawal
        st.integers(min_value=0, max_value=5),  # days back from the booking day
        st.integers(min_value=0, max_value=4),  # booking day offset
        st.integers(min_value=0, max_value=23),  # booking hour
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=MOVES, probes=st.lists(st.integers(0, 11 * 24 * 60), min_size=2, max_size=6))
def test_as_of_agrees_with_the_postings_at_every_instant(
    app: Flask, admin: User, moves: list[tuple[int, bool, int, int, int]], probes: list[int]
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    start = DAY - timedelta(days=6)
    balance = 0
    # Booked in time order (as the bank's clock books them), dated up to 5 days back.
    for amount, deposit, back, offset, hour in sorted(moves, key=lambda m: (m[3], m[4])):
        booked = at(DAY + timedelta(days=offset), hour)
        value_date = booked.date() - timedelta(days=back)
        with clock_set_to(booked):
            if deposit or balance < amount:
                ledger.deposit(
                    account, amount, actor=admin, description="In", value_date=value_date
                )
                balance += amount
            else:
                ledger.withdraw(
                    account, amount, actor=admin, description="Out", value_date=value_date
                )
                balance -= amount
    assert balance_as_of(account.id, FAR) == stored(account) == balance
    instants = sorted(at(start, 0) + timedelta(minutes=m) for m in probes)
    values = [balance_as_of(account.id, t) for t in instants]
    assert values == [slow_as_of(account, t) for t in instants]
    # Composition: the change between two instants is what the rule adds between them.
    for earlier, later, a, b in zip(instants, instants[1:], values, values[1:], strict=False):
        assert b - a == slow_as_of(account, later) - slow_as_of(account, earlier)
