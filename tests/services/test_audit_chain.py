"""The audit hash chain: every write path chains its events; a row edited, deleted or
inserted directly in the database is named by the verifier; concurrent writers leave one
chain (PostgreSQL, threads)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from vaulta.extensions import db
from vaulta.models import Account, AuditChainHead, AuditEvent, User
from vaulta.services import audit, ledger
from vaulta.services.audit.chain import GENESIS, canonical, link
from vaulta.services.audit.verification import verify_chain
from vaulta.services.unit_of_work import write_transaction

THREADS = 8
EVENTS_PER_THREAD = 6


def _record(action: str, actor: User | None = None, **details: object) -> None:
    with write_transaction() as s:
        audit.record(s, actor=actor, action=action, object_type="test", details=details)


def _ids() -> list[int]:
    return list(db.session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def _execute(statement: sa.Executable) -> None:
    db.session.execute(statement)
    db.session.commit()


@pytest.fixture
def log(app: Flask, admin: User) -> list[int]:
    """A chain of a few events of every kind: single, several at once, a movement."""
    _record("test.one", admin, note='Zoë\'s "quoted"\nnew line')
    with write_transaction() as s:
        audit.record_all(s, [audit.Event(admin, f"test.bulk{i}", "test", i) for i in range(3)])
    account = factories.make_account(factories.make_customer(), "EUR")
    ledger.deposit(account, 1_000, actor=admin, description="Chained")
    _record("test.last", None)
    return _ids()


def test_every_write_path_extends_one_chain(log: list[int]) -> None:
    report = verify_chain()
    assert report.ok, report.problem
    assert report.events == len(log) > 6
    assert report.head_id == log[-1]
    head = db.session.get(AuditChainHead, 1)
    assert head is not None
    assert (head.last_event_id, head.last_hash) == (log[-1], report.head_hash)
    rows = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    previous = GENESIS
    for row in rows:  # the documented recipe, from the ORM objects
        text = canonical(
            row.id,
            row.created_at,
            row.actor_id,
            row.action,
            row.object_type,
            row.object_id,
            json.dumps(row.details),
            row.client_address,
        )
        previous = link(previous, text)
        assert row.chain_hash == previous


def test_a_rolled_back_transaction_leaves_the_chain_as_it_was(log: list[int]) -> None:
    before = verify_chain()

    def refused() -> None:
        with write_transaction() as s:
            audit.record(s, actor=None, action="test.lost", object_type="test")
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError, match="refused"):
        refused()
    after = verify_chain()
    assert after.ok
    assert (after.head_id, after.head_hash) == (before.head_id, before.head_hash)
    _record("test.after")
    assert verify_chain().ok


def test_an_event_is_recorded_only_inside_a_write_transaction(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="write_transaction"):
        audit.record(db.session(), actor=None, action="test.x", object_type="test")
    db.session.rollback()


def test_an_edited_event_is_named(log: list[int]) -> None:
    edited = log[2]
    _execute(sa.update(AuditEvent).where(AuditEvent.id == edited).values(details={"note": "other"}))
    report = verify_chain()
    assert report.event_id == edited
    assert report.problem
    assert f"event #{edited} does not match" in report.problem


def test_an_edited_hash_is_named_too(log: list[int]) -> None:
    _execute(sa.update(AuditEvent).where(AuditEvent.id == log[1]).values(chain_hash="f" * 64))
    assert verify_chain().event_id == log[1]


def test_a_deleted_event_names_the_one_after_it(log: list[int]) -> None:
    _execute(sa.delete(AuditEvent).where(AuditEvent.id == log[3]))
    assert verify_chain().event_id == log[4]


def test_deleting_the_newest_events_is_seen_at_the_head(log: list[int]) -> None:
    _execute(sa.delete(AuditEvent).where(AuditEvent.id >= log[-2]))
    report = verify_chain()
    assert not report.ok
    assert report.event_id is None
    assert report.problem
    assert "the newest events were deleted" in report.problem


def test_an_inserted_event_is_named(log: list[int]) -> None:
    """A row slipped in between two events (by id), with a made-up hash, and one at the
    end without a hash: the first is named."""
    _execute(sa.delete(AuditEvent).where(AuditEvent.id == log[2]))
    forged = {"action": "test.forged", "object_type": "test", "details": {}}
    _execute(sa.insert(AuditEvent).values(id=log[2], chain_hash="0" * 64, **forged))
    assert verify_chain().event_id == log[2]


def test_an_event_inserted_without_a_hash_is_named(log: list[int]) -> None:
    _execute(sa.insert(AuditEvent).values(action="test.forged", object_type="test", details={}))
    report = verify_chain()
    assert report.event_id == _ids()[-1]
    assert report.problem
    assert "has no hash" in report.problem


def test_verify_audit_command(log: list[int], app: Flask) -> None:
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["vaulta", "verify-audit"])
    assert ok.exit_code == 0, ok.output
    assert f"{len(log)} event(s), head #{log[-1]}" in ok.output
    _execute(sa.update(AuditEvent).where(AuditEvent.id == log[1]).values(action="test.edited"))
    failed = runner.invoke(args=["vaulta", "verify-audit"])
    assert failed.exit_code == 1
    assert f"FAIL event #{log[1]} does not match its hash" in failed.output


def test_a_missing_head_row_is_created_again(app: Flask) -> None:
    _execute(sa.delete(AuditChainHead))
    _record("test.first")
    report = verify_chain()
    assert report.ok
    assert report.events == len(_ids())


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, THREADS)


def test_concurrent_writers_leave_one_chain(pg_app: Flask) -> None:
    admin = factories.make_admin("chain@example.test")
    account = factories.make_account(factories.make_customer(), "EUR")
    admin_id, account_id = admin.id, account.id
    before = len(_ids())

    def work(i: int) -> None:
        actor = db.session.get(User, admin_id)
        for n in range(EVENTS_PER_THREAD):
            if n % 3 == 2:
                target = db.session.get(Account, account_id)
                ledger.deposit(target, 100 + i, actor=actor, description=f"Thread {i}")
            else:
                _record(f"test.thread{i}", actor, n=n)

    results = in_threads(pg_app, THREADS, work)
    assert results == [None] * THREADS
    report = verify_chain()
    assert report.ok, report.problem
    assert report.events == len(_ids()) == before + THREADS * EVENTS_PER_THREAD


def test_a_writer_waiting_for_its_actor_does_not_hold_the_chain_head(pg_app: Flask) -> None:
    """Another transaction has changed a login's session token (a unique column, so the row
    is locked FOR UPDATE, as a sign-out everywhere does) and will want the chain head next.
    A writer whose event names that login as actor waits for it before taking the head
    (its foreign key's lock comes first), so the other transaction still gets the head:
    no deadlock. Taking the head first would make them wait for each other."""
    user = factories.make_admin("locked@example.test")
    user_id = user.id
    _record("test.first")  # the head row exists
    outcome: list[object] = []

    def writer(_i: int) -> None:
        _record("test.same_actor", db.session.get(User, user_id))

    with db.engine.connect() as other:
        other.exec_driver_sql("SET lock_timeout = '3s'")
        other.execute(
            sa.update(User.__table__).where(User.id == user_id).values(session_token="rotated")
        )
        thread = threading.Thread(
            target=lambda: outcome.extend(in_threads(pg_app, 1, writer)), daemon=True
        )
        thread.start()
        time.sleep(1)  # the writer is sealing: waiting for the login
        head = other.execute(sa.text("SELECT 1 FROM audit_chain_head WHERE id = 1 FOR UPDATE"))
        assert head.scalar() == 1  # not held by the waiting writer
        other.rollback()
    thread.join(30)
    assert outcome == [None]
    assert verify_chain().ok
