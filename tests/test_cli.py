"""``flask vaulta …`` commands."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta.extensions import db
from vaulta.models import Account, Customer, Transaction, User
from vaulta.ops.seeding.demo import ADMIN_EMAIL, APPROVER_EMAIL, CUSTOMER_EMAIL
from vaulta.services.identity import users


def invoke(app: Flask, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def counts() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in (User, Customer, Account, Transaction)
    )


def test_create_admin_reads_the_password_from_stdin(app: Flask) -> None:
    result = invoke(
        app,
        "vaulta",
        "create-admin",
        "Ops@Example.test",
        "--password-stdin",
        input="a very long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = users.authenticate("ops@example.test", "a very long passphrase")
    assert user.is_staff
    assert user.role_names == {"admin"}


def test_create_admin_prompts_twice(app: Flask) -> None:
    result = invoke(
        app,
        "vaulta",
        "create-admin",
        "ops@example.test",
        input="a very long passphrase\na very long passphrase\n",
    )
    assert result.exit_code == 0, result.output


def test_create_admin_refuses_a_short_password(app: Flask) -> None:
    result = invoke(
        app, "vaulta", "create-admin", "ops@example.test", "--password-stdin", input="short\n"
    )
    assert result.exit_code != 0
    assert "12 characters" in result.output


def test_seed_demo_is_idempotent_and_prints_logins(app: Flask) -> None:
    first = invoke(app, "vaulta", "seed-demo")
    assert first.exit_code == 0, first.output
    for email in (ADMIN_EMAIL, APPROVER_EMAIL, CUSTOMER_EMAIL):
        assert email in first.output
    after_first = counts()
    assert after_first[1] >= 13
    assert after_first[3] > 20
    second = invoke(app, "vaulta", "seed-demo")
    assert second.exit_code == 0
    assert "already present" in second.output
    assert counts() == after_first
    customer = users.authenticate(CUSTOMER_EMAIL, "vaulta-demo-password")
    currencies = {a.currency for a in customer.customer.accounts}
    assert currencies == {"EUR", "USD"}
    assert invoke(app, "vaulta", "verify-ledger").exit_code == 0


def test_seed_demo_if_empty_skips_a_used_database(app: Flask) -> None:
    factories.make_admin()
    result = invoke(app, "vaulta", "seed-demo", "--if-empty")
    assert "skipped" in result.output
    assert users.find_by_email(ADMIN_EMAIL) is None


def test_verify_ledger_fails_and_lists_violations(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    assert invoke(app, "vaulta", "verify-ledger").exit_code == 0
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(balance_minor=5))
    db.session.commit()
    result = invoke(app, "vaulta", "verify-ledger")
    assert result.exit_code == 1
    assert f"account {account.number}" in result.output
