"""The ledger under concurrency: no overdraft, no deadlock, no lost update.

PostgreSQL: rows are locked with ``SELECT … FOR UPDATE`` in ascending id order.
SQLite: every write transaction begins IMMEDIATE, so a read-then-write cannot be lost.
Each thread has its own app context (and so its own session and connection).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import JOIN_TIMEOUT, in_threads, threaded_app
from tests.helpers import balance
from vaulta.extensions import db
from vaulta.models import Account, Transaction, User
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import Conflict, InsufficientFunds
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.unit_of_work import write_transaction

THREADS = 8


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=THREADS)


def account(account_id: int) -> Account:
    found = db.session.get(Account, account_id)
    assert found is not None
    return found


def setup_accounts(*balances: int) -> tuple[int, list[int]]:
    """An admin's id and the ids of EUR accounts funded with ``balances``."""
    admin = factories.make_admin()
    accounts.system_account("EUR")  # not created by the threads: that is another race
    ids = [factories.make_account(factories.make_customer(), "EUR", b).id for b in balances]
    admin_id = admin.id
    db.session.remove()
    return admin_id, ids


def actor(admin_id: int) -> User:
    user = db.session.get(User, admin_id)
    assert user is not None
    return user


def overdraw_from_one_account(app: Flask, threads: int, amount: int) -> None:
    """``threads`` withdrawals and transfers of ``amount`` from an account holding 1,000:
    exactly the affordable ones succeed, the others are refused, nothing goes negative."""
    admin_id, (source, target) = setup_accounts(1_000, 0)

    def spend(i: int) -> tuple[int, int]:
        if i % 2:
            tx = ledger.transfer(
                account(source), account(target), amount, actor=actor(admin_id), description="x"
            )
        else:
            tx = ledger.withdraw(account(source), amount, actor=actor(admin_id), description="x")
        return tx.id, tx.credit_account_id

    results = in_threads(app, threads, spend)
    posted = [r for r in results if isinstance(r, tuple)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    affordable = 1_000 // amount
    assert len(posted) == affordable, results
    assert len(refused) == threads - affordable, results
    assert balance(source) == 1_000 - affordable * amount
    transfers = sum(1 for _tx_id, credit in posted if credit == target)
    assert balance(target) == transfers * amount
    assert verify_ledger() == []


@pytest.mark.postgres_only
def test_concurrent_spending_never_overdraws(pg_app: Flask) -> None:
    overdraw_from_one_account(pg_app, THREADS, 300)


@pytest.mark.postgres_only
def test_opposite_transfers_do_not_deadlock_and_keep_totals(pg_app: Flask) -> None:
    admin_id, (a, b) = setup_accounts(50_000, 50_000)
    rounds = 12

    def shuffle(i: int) -> list[tuple[int, int, int]]:
        """Thread i moves money A->B (even) or B->A (odd); every fourth also touches the
        system account, so three rows take part in the locking."""
        source, target = (a, b) if i % 2 == 0 else (b, a)
        moves = []
        for n in range(rounds):
            amount = 1 + (i * rounds + n) % 97
            if i % 4 == 3 and n % 3 == 0:
                ledger.deposit(account(source), amount, actor=actor(admin_id), description="in")
                moves.append((-1, source, amount))
            ledger.transfer(
                account(source), account(target), amount, actor=actor(admin_id), description="x"
            )
            moves.append((source, target, amount))
        return moves

    results = in_threads(pg_app, THREADS, shuffle)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    expected = {a: 50_000, b: 50_000}
    for moves in results:
        for source, target, amount in moves:
            if source != -1:
                expected[source] -= amount
            expected[target] += amount
    assert {a: balance(a), b: balance(b)} == expected
    assert verify_ledger() == []


@contextmanager
def row_locked(account_id: int) -> Iterator[Callable[[Callable[[], int]], None]]:
    """Hold ``FOR UPDATE`` on an account from another connection; yield a function that
    waits until every thread is blocked behind the lock, then releases it. So every thread
    has made its checks before the lock, deterministically, and then they post in turn."""
    connection = db.engine.connect()
    transaction = connection.begin()
    connection.execute(sa.select(Account.id).where(Account.id == account_id).with_for_update())
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    def release_when_all_wait(finished: Callable[[], int]) -> None:
        with db.engine.connect() as probe:
            for _ in range(JOIN_TIMEOUT * 20):
                blocked = probe.scalar(waiting)
                probe.rollback()  # pg_stat_activity is a snapshot per transaction
                if blocked + finished() >= THREADS:
                    break
                time.sleep(0.05)
        transaction.rollback()

    try:
        yield release_when_all_wait
    finally:
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def reverse_concurrently(app: Flask, funds_left_on_target: int) -> list[Any]:
    """Eight threads reverse one transfer of 2,000 from A to B; B keeps some other money."""
    admin_id, (a, b) = setup_accounts(5_000, funds_left_on_target)
    tx = ledger.transfer(account(a), account(b), 2_000, actor=actor(admin_id), description="x")
    tx_id = tx.id
    db.session.remove()

    def reverse(_i: int) -> int:
        return ledger.reverse(tx_id, actor=actor(admin_id), reason="oops").id

    with row_locked(b) as release:
        results = in_threads(app, THREADS, reverse, while_running=release)
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert (balance(a), balance(b)) == (5_000, funds_left_on_target)
    assert verify_ledger() == []
    return results


@pytest.mark.postgres_only
def test_concurrent_reversals_of_one_transaction_post_once(pg_app: Flask) -> None:
    results = reverse_concurrently(pg_app, funds_left_on_target=10_000)
    assert sum(isinstance(r, Conflict) for r in results) == THREADS - 1, results


@pytest.mark.postgres_only
def test_concurrent_second_reversal_is_refused_as_already_reversed(pg_app: Flask) -> None:
    results = reverse_concurrently(pg_app, funds_left_on_target=0)
    assert sum(isinstance(r, Conflict) for r in results) == THREADS - 1, results


def retry_concurrently(app: Flask, account_id: int, post: Callable[[], Transaction]) -> list[Any]:
    """Eight retries of one keyed request, all checking the key before any of them posts."""
    with row_locked(account_id) as release:
        return in_threads(app, THREADS, lambda _i: post().id, while_running=release)


@pytest.mark.postgres_only
def test_concurrent_retries_of_a_keyed_deposit_post_once(pg_app: Flask) -> None:
    admin_id, (a,) = setup_accounts(0)

    def deposit() -> Transaction:
        return ledger.deposit(
            account(a), 700, actor=actor(admin_id), description="x", idempotency_key="retry-1"
        )

    results = retry_concurrently(pg_app, a, deposit)
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1
    assert balance(a) == 700
    assert verify_ledger() == []


@pytest.mark.postgres_only
def test_concurrent_retries_of_a_keyed_withdrawal_return_the_first(pg_app: Flask) -> None:
    admin_id, (a,) = setup_accounts(1_000)

    def withdraw() -> Transaction:
        return ledger.withdraw(
            account(a), 1_000, actor=actor(admin_id), description="x", idempotency_key="w-1"
        )

    results = retry_concurrently(pg_app, a, withdraw)
    assert balance(a) == 0
    assert verify_ledger() == []
    assert all(isinstance(r, int) for r in results), results
    assert len(set(results)) == 1


def test_sqlite_loses_no_update(sqlite_app: Flask) -> None:
    """Four threads read-then-write the same account on a file database: every deposit
    counts, and of four withdrawals only the affordable ones pass."""
    admin_id, (target,) = setup_accounts(0)
    per_thread = 10

    def deposits(i: int) -> int:
        for n in range(per_thread):
            ledger.deposit(account(target), 1 + i + n, actor=actor(admin_id), description="x")
        return sum(1 + i + n for n in range(per_thread))

    totals = in_threads(sqlite_app, 4, deposits)
    assert all(isinstance(t, int) for t in totals), totals
    assert balance(target) == sum(totals)
    assert verify_ledger() == []


def test_sqlite_concurrent_spending_never_overdraws(sqlite_app: Flask) -> None:
    overdraw_from_one_account(sqlite_app, 4, 400)


def test_concurrent_multi_leg_entries_never_overdraw_nor_deadlock(pg_app: Flask) -> None:
    """Three-leg entries (``post_entry``) over the same accounts, listed in different
    orders: every leg's account is locked in ascending id order, each debit is checked
    under the lock, so exactly the affordable ones post and none deadlocks."""
    admin_id, (payer, payee, fees) = setup_accounts(1_000, 0, 0)

    def pay(i: int) -> int:
        legs = [ledger.Leg(payer, -300), ledger.Leg(payee, 250), ledger.Leg(fees, 50)]
        with write_transaction() as s:
            return ledger.post_entry(
                s,
                legs if i % 2 else legs[::-1],
                kind="payment",
                description="With a fee",
                actor_id=admin_id,
                from_account_id=payer,
                to_account_id=payee,
                principal_minor=250,
            )

    results = in_threads(pg_app, THREADS, pay)
    posted = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    assert (len(posted), len(refused)) == (3, THREADS - 3), results
    assert (balance(payer), balance(payee), balance(fees)) == (100, 750, 150)
    assert verify_ledger() == []
