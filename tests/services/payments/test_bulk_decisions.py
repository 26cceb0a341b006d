"""Bulk approval: many payments executed in one transaction, each decided on its own terms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.concurrency import in_threads, threaded_app
from tests.helpers import audit_actions, balance, count_rows, sql_statements
from tests.services.payments.factories import make_payment
from vaulta.extensions import db
from vaulta.models import Account, Hold, Payment, Transaction, User
from vaulta.services.banking import accounts
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.payments import approvals, bulk_decisions


def test_a_batch_posts_in_order_against_running_balances(
    customer_user: User, approver: User, source: Account, target: Account
) -> None:
    first = make_payment(customer_user, source, to=target, amount="600.00")
    second = make_payment(customer_user, source, to=target, amount="300.00")
    # Holds refuse a payment beyond the available balance when it is made (test_holds.py):
    # in a batch, a payment fails when its beneficiary was frozen meanwhile.
    frozen = factories.make_account(factories.customer_of(customer_user), "EUR")
    too_much = make_payment(customer_user, source, to=frozen, amount="40.00")
    db.session.execute(sa.update(Account).where(Account.id == frozen.id).values(status="frozen"))
    db.session.commit()
    external = make_payment(customer_user, source, amount="50.00")
    ids = [first.id, second.id, too_much.id, external.id]
    system = accounts.system_account("EUR")
    bank_before = balance(system)
    results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
    assert [(r.payment_id, r.ok) for r in results] == [
        (first.id, True),
        (second.id, True),
        (too_much.id, False),
        (external.id, True),
    ]
    assert results[2].message.startswith("failed: Account")
    assert balance(source) == 100_000 - 60_000 - 30_000 - 5_000
    assert balance(target) == 90_000
    assert balance(system) == bank_before + 5_000  # the external payment leaves the bank
    for done in (first, second, external):
        payment = db.session.get(Payment, done.id)
        assert payment is not None
        assert payment.status == "executed"
        assert payment.transaction is not None
        assert payment.transaction.reference == f"PAY-{done.id}"
        assert payment.admin_approved_by == approver.id
        assert audit_actions("payment", done.id)[-1] == "payment.approve"
    failed = db.session.get(Payment, too_much.id)
    assert failed is not None
    assert failed.status == "failed"
    assert failed.transaction_id is None
    assert failed.decided_by_id == approver.id
    assert audit_actions("payment", too_much.id)[-1] == "payment.fail"
    assert verify_ledger() == []


def test_a_frozen_account_fails_its_payment_only(
    customer_user: User, approver: User, admin: User, source: Account, target: Account
) -> None:
    other = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    blocked = make_payment(customer_user, other, to=target, amount="10.00")
    fine = make_payment(customer_user, source, to=target, amount="10.00")
    accounts.freeze_account(other.id, actor=admin)
    results = bulk_decisions.decide_many([blocked.id, fine.id], actor=approver, action="approve")
    assert [r.ok for r in results] == [False, True]
    assert "is frozen" in results[0].message
    assert verify_ledger() == []


def test_a_batch_runs_the_same_statements_for_two_or_six_payments(
    backend: str, customer_user: User, approver: User, source: Account, target: Account
) -> None:
    def statements(count: int) -> list[str]:
        ids = [
            make_payment(customer_user, source, to=target, amount="1.00").id for _ in range(count)
        ]
        with sql_statements() as seen:
            results = bulk_decisions.decide_many(ids, actor=approver, action="approve")
        assert all(r.ok for r in results)
        return seen

    two, six = statements(2), statements(6)
    if backend == "postgresql":
        assert len(two) == len(six)  # every write is one statement, whatever the batch size
    else:  # SQLite returns inserted ids in order only row by row: one INSERT per payment
        assert len(six) - len(two) == 4


def test_what_the_batch_cannot_take_is_decided_one_by_one(
    app: Flask,
    customer_user: User,
    second_approver: User,
    approver: User,
    source: Account,
    target: Account,
) -> None:
    app.config["APPROVAL_STEP_UP_THRESHOLD_MINOR"] = 50_000
    mine = make_payment(customer_user, source, to=target, amount="1.00")
    big = make_payment(customer_user, source, to=target, amount="600.00")
    fine = make_payment(customer_user, source, to=target, amount="2.00")
    approvals.approve(mine.id, actor=second_approver)
    results = bulk_decisions.decide_many(
        [mine.id, big.id, fine.id], actor=approver, action="approve"
    )
    assert [r.ok for r in results] == [False, False, True]
    assert "already decided" in results[0].message
    assert "approval code" in results[1].message
    assert db.session.get(Payment, big.id).status == "pending_approval"  # type: ignore[union-attr]


@pytest.fixture
def pg_app(postgres_url: str, tmp_path: Path) -> Iterator[Flask]:
    yield from threaded_app(postgres_url, tmp_path, threads=4)


@pytest.mark.postgres_only
def test_overlapping_bulk_approvals_execute_each_payment_once(pg_app: Flask) -> None:
    """PostgreSQL: four approvers bulk-approve overlapping selections at the same moment.
    Each payment holds its amount from its confirmation (an eighth beyond the balance would
    be refused when made), so all eight execute, each once, capturing its hold."""
    customer_user = factories.make_customer_login()
    other = factories.make_customer_login()
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 120_000)
    target = factories.make_account(factories.customer_of(other), "EUR", 0)
    ids = [make_payment(customer_user, source, to=target, amount="150.00").id for _ in range(8)]
    admins = [factories.make_staff(None, "approver").id for _ in range(4)]
    source_id = source.id
    db.session.remove()

    def approve(i: int) -> list[str]:
        actor = db.session.get(User, admins[i])
        chosen = ids[i:] + ids[:i]  # every admin picks all eight, in a different order
        return [
            r.message for r in bulk_decisions.decide_many(chosen, actor=actor, action="approve")
        ]

    results = in_threads(pg_app, 4, approve)
    assert not any(isinstance(r, BaseException) for r in results), results
    statuses = db.session.scalars(sa.select(Payment.status).where(Payment.id.in_(ids))).all()
    assert statuses == ["executed"] * 8
    assert count_rows(Transaction, Transaction.kind == "payment") == 8
    paid = db.session.get(Account, source_id)
    assert paid is not None
    assert (paid.balance_minor, paid.held_minor) == (0, 0)
    holds = db.session.scalars(sa.select(Hold.status).where(Hold.payment_id.in_(ids))).all()
    assert holds == ["captured"] * 8
    assert verify_ledger() == []
