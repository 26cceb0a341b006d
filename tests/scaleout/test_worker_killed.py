"""A gunicorn worker killed (SIGKILL) while it executes a payment loses nothing and
doubles nothing: the payment stays pending with no posting (or, had the commit landed, is
executed with exactly one), the ledger verifies, and approving again executes it once.

The test-only delay hook (``VAULTA_TEST_EXECUTION_DELAY_SECONDS``, honoured only under the
testing configuration) holds the execution transaction open after the payment is posted
and before the commit; the test waits until the database shows that open write
transaction, then kills the only worker.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.databases import SqliteTemplate
from tests.factories import PASSWORD
from tests.scaleout.conftest import make_book, outcome
from tests.scaleout.instances import Browser, running, wait_until_healthy
from vaulta.models.payment import PAYMENT_EXECUTED, PAYMENT_PENDING

DELAY_SECONDS = "4"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_template.copy_to(tmp_path)
    else:
        yield request.getfixturevalue("postgres_database")


def write_in_progress(url: str) -> bool:
    """True while another connection holds an open transaction that has written."""
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # database is locked: a writer is inside
            return True
        finally:
            conn.close()
        return False
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            writers = conn.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                    " AND state = 'idle in transaction'"
                )
            )
    finally:
        engine.dispose()
    return bool(writers)


def wait_for(condition: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def test_killing_the_worker_mid_execution_leaves_the_payment_whole(
    database_url: str, shared_secret: str, tmp_path: Path
) -> None:
    book = make_book(database_url, payments=1)
    (payment_id,) = book.payment_ids
    settings = {"SECRET_KEY": shared_secret, "VAULTA_TEST_EXECUTION_DELAY_SECONDS": DELAY_SECONDS}
    with running(database_url, tmp_path, workers=1, **settings) as instance:
        browser = Browser()
        assert browser.sign_in(instance.base, book.approver_email, PASSWORD).status == 302
        token = browser.get(instance.base + "/admin/approvals/").csrf_token()
        url = f"{instance.base}/admin/approvals/{payment_id}/approve"
        errors: list[BaseException] = []

        def approve() -> None:
            try:
                browser.post(url, {"csrf_token": token})
            except OSError as err:  # the connection dies with the worker
                errors.append(err)

        thread = threading.Thread(target=approve)
        thread.start()
        wait_for(lambda: write_in_progress(database_url))
        (worker,) = instance.worker_pids()
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=30)
        assert errors, "the approval answered although its worker was killed"

        after_kill = outcome(database_url, payment_id)
        assert after_kill.ledger_problems == []
        if after_kill.status == PAYMENT_PENDING:
            assert (after_kill.transaction_id, after_kill.postings) == (None, 0)
        else:  # the commit landed just before the kill
            assert after_kill.status == PAYMENT_EXECUTED
            assert after_kill.postings == 1

        # The master replaces the worker; approving again executes the payment once.
        wait_for(lambda: instance.worker_pids() and instance.worker_pids() != [worker])
        wait_until_healthy(instance)
        assert browser.post(url, {"csrf_token": token}).status == 302
    final = outcome(database_url, payment_id)
    assert final.status == PAYMENT_EXECUTED
    assert final.transaction_id is not None
    assert final.postings == 1
    assert final.ledger_problems == []
