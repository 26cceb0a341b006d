"""PostgreSQL: concurrent approvals execute each payment exactly once and never overdraw."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from tests.helpers import count_rows, mailed_code
from tests.services.payments.factories import make_payment
from vaulta.extensions import db
from vaulta.models import Account, ChangeDecision, Payment, Transaction, User
from vaulta.services.errors import Conflict, InsufficientFunds
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments import approvals, payment_requests

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=16)


def _setup(balance: int) -> tuple[User, User, Account, Account]:
    customer_user = factories.make_customer_login()
    other = factories.make_customer_login()
    source = factories.make_account(factories.customer_of(customer_user), "EUR", balance)
    target = factories.make_account(factories.customer_of(other), "EUR")
    return customer_user, factories.make_staff(None, "approver"), source, target


def test_sixteen_approvals_of_one_payment_post_once(pg_app: Flask) -> None:
    customer_user, approver, source, target = _setup(100_000)
    payment = make_payment(customer_user, source, to=target, amount="100.00")
    pid, approver_id = payment.id, approver.id
    db.session.remove()

    def approve(_: int) -> str:
        actor = db.session.get(User, approver_id)
        return approvals.approve(pid, actor=actor).status  # type: ignore[arg-type]

    results = in_threads(pg_app, 16, approve)
    assert results.count("executed") == 1
    losers = [r for r in results if r != "executed"]
    assert len(losers) == 15
    assert all(isinstance(r, Conflict) and "already decided" in r.message for r in losers)
    assert count_rows(Transaction, Transaction.reference == f"PAY-{pid}") == 1
    assert db.session.get(Account, source.id).balance_minor == 90_000  # type: ignore[union-attr]
    assert verify_ledger() == []


def test_eight_payments_beyond_the_balance_never_overdraw(pg_app: Flask) -> None:
    """Eight 200.00 payments confirmed at once on 1,000.00: five get their holds, three are
    refused (InsufficientFunds); approving the five at once spends exactly the balance."""
    customer_user, approver, source, target = _setup(100_000)
    made = [
        payment_requests.create_request(
            actor=customer_user, from_account=source.number, amount="200.00",
            reference="Invoice", to_account=target.number,
        )
        for _ in range(8)
    ]  # fmt: skip
    ids, codes = [p.id for p, _ in made], [code for _, code in made]
    user_id, approver_id, source_id = customer_user.id, approver.id, source.id
    db.session.remove()

    def confirm(i: int) -> str:
        actor = db.session.get(User, user_id)
        return payment_requests.confirm(ids[i], actor=actor, code=codes[i]).status  # type: ignore[arg-type]

    confirmed = in_threads(pg_app, 8, confirm)
    assert confirmed.count("pending_approval") == 5, confirmed
    assert sum(isinstance(r, InsufficientFunds) for r in confirmed) == 3, confirmed
    pending = [pid for pid, r in zip(ids, confirmed, strict=True) if r == "pending_approval"]
    assert db.session.get(Account, source_id).held_minor == 100_000  # type: ignore[union-attr]

    def approve(i: int) -> str:
        actor = db.session.get(User, approver_id)
        return approvals.approve(pending[i], actor=actor).status  # type: ignore[arg-type]

    assert in_threads(pg_app, 5, approve) == ["executed"] * 5
    db.session.rollback()
    account = db.session.get(Account, source_id, populate_existing=True)
    assert account is not None
    assert (account.balance_minor, account.held_minor) == (0, 0)
    assert verify_ledger() == []


def test_crossing_payments_between_two_accounts_never_deadlock(pg_app: Flask) -> None:
    """A to B and B to A at once: both lock the two accounts in the same (id) order."""
    a_user, b_user = factories.make_customer_login(), factories.make_customer_login()
    a = factories.make_account(factories.customer_of(a_user), "EUR", 100_000)
    b = factories.make_account(factories.customer_of(b_user), "EUR", 100_000)
    approver = factories.make_staff(None, "approver")
    ids = [
        make_payment(a_user, a, to=b, amount="10.00").id
        if i % 2
        else make_payment(b_user, b, to=a, amount="5.00").id
        for i in range(16)
    ]
    approver_id = approver.id
    db.session.remove()

    def approve(i: int) -> str:
        actor = db.session.get(User, approver_id)
        return approvals.approve(ids[i], actor=actor).status  # type: ignore[arg-type]

    assert in_threads(pg_app, 16, approve) == ["executed"] * 16
    balances = dict(db.session.execute(sa.select(Account.id, Account.balance_minor)).all())
    assert (balances[a.id], balances[b.id]) == (100_000 - 4_000, 100_000 + 4_000)
    assert verify_ledger() == []


def test_two_approvers_deciding_the_last_level_at_once_execute_it_once(pg_app: Flask) -> None:
    """A 12,000.00 payment after its first level: two other approvers, each with their
    step-up code, approve level 2 at the same moment. One executes it; the other gets
    Conflict; one transaction, one decision per level."""
    customer_user, first, source, target = _setup(5_000_000)
    payment = make_payment(customer_user, source, to=target, amount="12000.00")
    assert approvals.approve(payment.id, actor=first).status == "pending_approval"
    seconds = [factories.make_staff(None, "approver") for _ in range(2)]
    codes = []
    for second in seconds:
        with pytest.raises(approvals.StepUpRequired):
            approvals.approve(payment.id, actor=second)
        codes.append(mailed_code(second.email, f"VAULTA approval code for payment #{payment.id}"))
    pid, ids = payment.id, [second.id for second in seconds]
    db.session.remove()

    def approve(i: int) -> str:
        actor = db.session.get(User, ids[i])
        return approvals.approve(pid, actor=actor, otp_code=codes[i]).status  # type: ignore[arg-type]

    results = in_threads(pg_app, 2, approve)
    assert results.count("executed") == 1
    loser = next(r for r in results if r != "executed")
    assert isinstance(loser, Conflict)
    assert count_rows(Transaction, Transaction.reference == f"PAY-{pid}") == 1
    request_id = db.session.get(Payment, pid).change_request_id  # type: ignore[union-attr]
    assert count_rows(ChangeDecision, ChangeDecision.request_id == request_id) == 2
    assert db.session.get(Account, source.id).balance_minor == 5_000_000 - 1_200_000  # type: ignore[union-attr]
    assert verify_ledger() == []
