"""PostgreSQL: deciders racing on the last level of a change request execute it once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from tests.helpers import balance, count_rows
from tests.services.changes.support import deposit, funded_account, withdrawal
from vaulta.extensions import db
from vaulta.models import ChangeDecision, ChangeRequest, Transaction, User
from vaulta.services.changes import change_requests
from vaulta.services.errors import Conflict
from vaulta.services.ledger.checks import verify_ledger

pytestmark = pytest.mark.postgres_only
THREADS = 8


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=THREADS)


def _approvers(count: int) -> list[int]:
    return [factories.make_staff(None, "approver").id for _ in range(count)]


def test_approvers_deciding_the_last_level_at_once_execute_it_once(pg_app: Flask) -> None:
    teller = factories.make_staff(None, "teller")
    account = funded_account()
    request = deposit(teller, account, 250_00)
    request_id, account_id, approver_ids = request.id, account.id, _approvers(THREADS)
    db.session.remove()

    def approve(i: int) -> str:
        actor = db.session.get(User, approver_ids[i])
        assert actor is not None
        return change_requests.approve(request_id, actor=actor).status

    results = in_threads(pg_app, THREADS, approve)
    assert results.count("approved") == 1
    losers = [r for r in results if r != "approved"]
    assert len(losers) == THREADS - 1
    assert all(isinstance(r, Conflict) for r in losers), losers
    assert balance(account_id, fresh=True) == 250_00
    key = f"change-request-{request_id}"
    assert count_rows(Transaction, Transaction.idempotency_key == key) == 1
    assert count_rows(ChangeDecision, ChangeDecision.request_id == request_id) == 1
    assert verify_ledger() == []


def test_withdrawals_approved_at_once_never_overdraw(pg_app: Flask) -> None:
    teller = factories.make_staff(None, "teller")
    account = funded_account(1_000_00)
    ids = [withdrawal(teller, account, 200_00 + i).id for i in range(THREADS)]
    account_id, approver_ids = account.id, _approvers(THREADS)
    db.session.remove()

    def approve(i: int) -> str:
        actor = db.session.get(User, approver_ids[i])
        assert actor is not None
        return change_requests.approve(ids[i], actor=actor).status

    results = in_threads(pg_app, THREADS, approve)
    assert sorted(map(str, results)) == ["approved"] * 4 + ["failed"] * 4
    db.session.rollback()
    statuses = db.session.scalars(
        sa.select(ChangeRequest.status).where(ChangeRequest.id.in_(ids))
    ).all()
    assert sorted(statuses) == ["approved"] * 4 + ["failed"] * 4
    assert 0 <= balance(account_id, fresh=True) < 200_00
    assert verify_ledger() == []
