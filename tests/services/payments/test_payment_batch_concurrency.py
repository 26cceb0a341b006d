"""PostgreSQL: approvers deciding a payment batch's last level at once pay each line once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from tests.helpers import balance, count_rows
from tests.services.changes.support import funded_account
from tests.services.payments.batch_support import csv_file, submit_batch
from vaulta.extensions import db
from vaulta.models import Payment, PaymentBatchLine, Transaction, User
from vaulta.services.changes import change_requests
from vaulta.services.errors import Conflict
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments.batch_actions import line_key

pytestmark = pytest.mark.postgres_only
THREADS = 6


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=THREADS)


def test_racing_approvers_pay_each_line_once(pg_app: Flask) -> None:
    teller = factories.make_staff(None, "teller")
    account = funded_account(500_00)
    request = submit_batch(teller, account, csv_file("10.00", "20.00", "30.00"))
    request_id, account_id = request.id, account.id
    approver_ids = [factories.make_staff(None, "approver").id for _ in range(THREADS)]
    db.session.remove()

    def approve(i: int) -> str:
        actor = db.session.get(User, approver_ids[i])
        assert actor is not None
        return change_requests.approve(request_id, actor=actor).status

    results = in_threads(pg_app, THREADS, approve)
    assert results.count("approved") == 1
    assert all(isinstance(r, Conflict) for r in results if r != "approved"), results
    assert balance(account_id, fresh=True) == 500_00 - 60_00
    assert count_rows(Payment, fresh=True) == 3
    assert count_rows(PaymentBatchLine, PaymentBatchLine.request_id == request_id) == 3
    keys = [line_key(request_id, n) for n in (1, 2, 3)]
    assert count_rows(Transaction, Transaction.idempotency_key.in_(keys)) == 3
    assert verify_ledger() == []
