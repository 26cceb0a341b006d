"""``flask vaulta seed-demo --customers N --transactions M``: a consistent book at scale."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from tests.helpers import count_rows, vaulta_cli
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, Customer, Transaction
from vaulta.models.account import KIND_CUSTOMER, KIND_SYSTEM
from vaulta.ops.seeding import bulk_seed, demo
from vaulta.services.banking.identifiers import is_valid_account_number
from vaulta.services.identity import users


def counts() -> tuple[int, int, int]:
    return (
        count_rows(Customer),
        count_rows(Account, Account.kind == KIND_CUSTOMER),
        count_rows(Transaction),
    )


def test_bulk_seed_builds_a_consistent_book(app: Flask) -> None:
    assert vaulta_cli(app, "seed-demo").exit_code == 0
    customers, accounts, transactions = counts()

    result = vaulta_cli(app, "seed-demo", "--customers", "200", "--transactions", "2000")

    assert result.exit_code == 0, result.output
    assert "Added 200 customers" in result.output
    new_customers, new_accounts, new_transactions = counts()
    assert new_customers == customers + 200
    assert 200 <= new_accounts - accounts <= 400
    assert new_transactions == transactions + 2000
    verified = vaulta_cli(app, "verify-ledger")
    assert verified.exit_code == 0, verified.output
    assert count_rows(Account, Account.kind == KIND_CUSTOMER, Account.balance_minor < 0) == 0
    assert count_rows(Account, Account.kind == KIND_SYSTEM) == 2
    assert count_rows(Transaction, Transaction.amount_minor <= 0) == 0
    numbers = db.session.scalars(sa.select(Account.number)).all()
    assert all(is_valid_account_number(n) for n in numbers)
    kinds = set(db.session.scalars(sa.select(Transaction.kind).distinct()))
    assert {"deposit", "withdrawal", "transfer"} <= kinds
    every_customer_has_an_account = sa.select(Customer.id).where(
        ~sa.exists().where(Account.customer_id == Customer.id)
    )
    assert db.session.scalars(every_customer_has_an_account).all() == []


def test_every_run_adds_another_batch_with_fresh_numbers(app: Flask) -> None:
    for _ in range(2):
        result = vaulta_cli(app, "seed-demo", "--customers", "50", "--transactions", "300")
        assert result.exit_code == 0, result.output
    assert count_rows(Customer) == len(demo.FURTHER_CUSTOMERS) + 1 + 100
    assert vaulta_cli(app, "verify-ledger").exit_code == 0
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "demo.bulk_seed")
    ).all()
    assert [e.details["customers"] for e in events] == [50, 50]
    assert events[0].actor_id == users.find_by_email(demo.ADMIN_EMAIL).id
    # The plain command stays idempotent afterwards.
    before = counts()
    assert "already present" in vaulta_cli(app, "seed-demo").output
    assert counts() == before


def test_the_service_creates_the_demo_admins_and_reports_progress(app: Flask) -> None:
    seen: list[int] = []
    result = bulk_seed.bulk_seed(30, 250, progress=seen.append, rng_seed=5, batch_size=40)
    assert (result.customers, result.transactions) == (30, 250)
    assert sum(seen) == 30 + 250
    assert max(seen) <= 40
    assert users.find_by_email(demo.ADMIN_EMAIL) is not None
    assert count_rows(Transaction, Transaction.created_by_id.is_(None)) == 0
    assert vaulta_cli(app, "verify-ledger").exit_code == 0


def test_transactions_need_customers(app: Flask) -> None:
    result = vaulta_cli(app, "seed-demo", "--transactions", "10")
    assert result.exit_code != 0
    assert "--customers" in result.output
    assert count_rows(Customer) == 0
