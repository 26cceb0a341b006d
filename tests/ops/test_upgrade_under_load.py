"""``upgrade-safely`` while the app takes writes: a revision fails, and every write that was
answered 2xx is still there afterwards (the issue's 69-payments-in, 23-left-out case).

A thread makes API payments (201) and approves each one on the web (200, money moved)
before, during and after the run; during the run writes get 503 with Retry-After."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.api.conftest import make_key, payment_body
from tests.concurrency import in_threads
from tests.ops.conftest import use_migrations
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import ApiIdempotencyKey, Payment, User
from vaulta.models.payment import PAYMENT_EXECUTED
from vaulta.ops.schema import current_revisions
from vaulta.services import maintenance
from vaulta.services.ledger.checks import verify_ledger

WAIT_SECONDS = 60


@dataclass
class WriteLog:
    """What the writer was told: (what, HTTP status, payment id, Retry-After)."""

    answers: list[tuple[str, int, int | None, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, status: int, payment_id: int | None, retry_after: str | None) -> None:
        with self.lock:
            self.answers.append((what, status, payment_id, retry_after))

    def ids(self, what: str, status: int) -> list[int]:
        with self.lock:
            return [p for w, s, p, _ in self.answers if w == what and s == status and p]

    def count(self) -> int:
        with self.lock:
            return len(self.answers)


def _wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the writer made no progress"
        time.sleep(0.05)


def test_no_write_answered_2xx_is_lost_when_an_upgrade_fails_under_load(
    ops_app: Flask, migrations_copy: Callable[..., Path]
) -> None:
    ops_app.test_client_class = WebClient
    admin_id = factories.make_staff("load-approver@example.test", "approver").id
    customer = factories.make_customer_login("load-customer@example.test")
    source = factories.make_account(factories.customer_of(customer), "EUR", 10_000_000)
    target = factories.make_account(factories.make_customer("Load Payee"), "EUR")
    key = make_key(customer)
    body = payment_body(source, target, amount_minor=100)
    db.session.remove()
    before_revision = current_revisions(db.engine)
    use_migrations(ops_app, migrations_copy("slow", "failing"))
    log, stop, outcome = WriteLog(), threading.Event(), []

    def write(_: int) -> None:
        api = ops_app.test_client()
        api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        staff = ops_app.test_client()
        assert isinstance(staff, WebClient)
        staff.sign_in(db.session.get(User, admin_id))
        number = 0
        while not stop.is_set():
            number += 1
            headers = {"Idempotency-Key": f"load-{number}"}
            created = api.post("/api/v1/payments", json=body, headers=headers)
            payment_id = created.json.get("id") if created.status_code == 201 else None
            log.add("create", created.status_code, payment_id, created.headers.get("Retry-After"))
            if payment_id is None:
                time.sleep(0.02)
                continue
            approved = staff.htmx("POST", f"/admin/approvals/{payment_id}/approve", data={})
            log.add(
                "approve", approved.status_code, payment_id, approved.headers.get("Retry-After")
            )

    def probe_once_maintenance_is_on() -> None:
        """A write begun while maintenance is on is refused (the writer above may instead
        be held at the write lock for the whole run when it passed the check just before;
        on SQLite that is its only way in, and it is answered after the run)."""
        with ops_app.app_context():
            while maintenance.read_state(db.engine) is None and not stop.is_set():
                time.sleep(0.01)
            api = ops_app.test_client()
            api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
            headers = {"Idempotency-Key": "probe"}
            probe = api.post("/api/v1/payments", json=body, headers=headers)
            payment_id = probe.json.get("id") if probe.status_code == 201 else None
            log.add("create", probe.status_code, payment_id, probe.headers.get("Retry-After"))
            db.session.remove()

    def upgrade_meanwhile(_finished: Callable[[], int]) -> None:
        prober = threading.Thread(target=probe_once_maintenance_is_on)
        try:
            _wait_for(lambda: len(log.ids("approve", 200)) >= 3)
            prober.start()
            outcome.append(ops_app.test_cli_runner().invoke(args=["vaulta", "upgrade-safely"]))
            prober.join(WAIT_SECONDS)
            done = len(log.ids("approve", 200))
            _wait_for(lambda: len(log.ids("approve", 200)) >= done + 3)  # writes resumed
        finally:
            stop.set()

    (error,) = in_threads(ops_app, 1, write, while_running=upgrade_meanwhile)
    assert error is None, error
    (result,) = outcome
    assert result.exit_code == 1
    assert "RuntimeError: deliberate failure after DDL" in result.output
    assert "nothing to restore" in result.output

    # During the run writes were refused with 503 and a Retry-After, never half done.
    refused = [a for a in log.answers if a[1] == 503]
    assert refused, "the writer never met maintenance mode"
    assert all(retry_after and int(retry_after) > 0 for *_, retry_after in refused)
    assert {a[1] for a in log.answers} <= {201, 200, 503}

    # Every write answered 2xx is still there: payments, their idempotency keys, the money.
    db.session.remove()
    created, approved = log.ids("create", 201), log.ids("approve", 200)
    payments = {p.id: p for p in db.session.scalars(sa.select(Payment))}
    assert set(created) <= set(payments)
    assert all(payments[p].status == PAYMENT_EXECUTED for p in approved)
    assert all(payments[p].transaction_id is not None for p in approved)
    keys = db.session.scalar(sa.select(sa.func.count()).select_from(ApiIdempotencyKey))
    assert keys == len(created)
    assert verify_ledger() == []
    assert current_revisions(db.engine) == before_revision
    assert not sa.inspect(db.engine).has_table("ops_slow")
