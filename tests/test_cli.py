"""``flask vaulta …`` commands."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import count_rows, vaulta_cli
from vaulta.extensions import db
from vaulta.models import Account, ApiKey, AuditEvent, Customer, Transaction, User
from vaulta.ops.seeding.demo import ADMIN_EMAIL, APPROVER_EMAIL, CUSTOMER_EMAIL
from vaulta.services.identity import api_keys, users


def counts() -> tuple[int, ...]:
    return tuple(count_rows(model) for model in (User, Customer, Account, Transaction))


def test_create_admin_reads_the_password_from_stdin(app: Flask) -> None:
    result = vaulta_cli(
        app,
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
    result = vaulta_cli(
        app,
        "create-admin",
        "ops@example.test",
        input="a very long passphrase\na very long passphrase\n",
    )
    assert result.exit_code == 0, result.output


def test_create_admin_refuses_a_short_password(app: Flask) -> None:
    result = vaulta_cli(
        app, "create-admin", "ops@example.test", "--password-stdin", input="short\n"
    )
    assert result.exit_code != 0
    assert "12 characters" in result.output


def test_seed_demo_is_idempotent_and_prints_logins(app: Flask) -> None:
    first = vaulta_cli(app, "seed-demo")
    assert first.exit_code == 0, first.output
    for email in (ADMIN_EMAIL, APPROVER_EMAIL, CUSTOMER_EMAIL):
        assert email in first.output
    staff = {
        ADMIN_EMAIL: {"admin"},
        APPROVER_EMAIL: {"approver"},
        "approver2@vaulta.test": {"approver"},
        "teller@vaulta.test": {"teller"},
        "auditor@vaulta.test": {"auditor"},
    }
    for email, roles in staff.items():
        assert re.search(rf"{re.escape(email)}\s+{next(iter(roles))}\n", first.output)
        assert users.authenticate(email, "vaulta-demo-password").role_names == roles
    after_first = counts()
    assert after_first[1] >= 13
    assert after_first[3] > 20
    second = vaulta_cli(app, "seed-demo")
    assert second.exit_code == 0
    assert "already present" in second.output
    assert counts() == after_first
    customer = users.authenticate(CUSTOMER_EMAIL, "vaulta-demo-password")
    currencies = {a.currency for a in customer.customer.accounts}
    assert currencies == {"EUR", "USD"}
    assert vaulta_cli(app, "verify-ledger").exit_code == 0


def test_seed_demo_if_empty_skips_a_used_database(app: Flask) -> None:
    factories.make_admin()
    result = vaulta_cli(app, "seed-demo", "--if-empty")
    assert "skipped" in result.output
    assert users.find_by_email(ADMIN_EMAIL) is None


def test_verify_ledger_fails_and_lists_violations(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    assert vaulta_cli(app, "verify-ledger").exit_code == 0
    db.session.execute(sa.update(Account).where(Account.id == account.id).values(balance_minor=5))
    db.session.commit()
    result = vaulta_cli(app, "verify-ledger")
    assert result.exit_code == 1
    assert f"account {account.number}" in result.output


def test_create_user_with_several_roles_is_audited(app: Flask) -> None:
    result = vaulta_cli(
        app,
        "create-user",
        "Tess@Example.test",
        "--role",
        "teller",
        "--role",
        "auditor",
        "--name",
        "Tess Teller",
        "--password-stdin",
        input="a very long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "roles: auditor, teller" in result.output
    user = users.authenticate("tess@example.test", "a very long passphrase")
    assert user.role_names == {"teller", "auditor"}
    assert user.full_name == "Tess Teller"
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "user.created")
    ).one()
    assert (event.actor_id, event.object_id) == (None, str(user.id))
    assert event.details["roles"] == ["teller", "auditor"]


def test_create_user_refuses_an_unknown_role(app: Flask) -> None:
    result = vaulta_cli(app, "create-user", "x@example.test", "--role", "banker")
    assert result.exit_code != 0
    assert users.find_by_email("x@example.test") is None


def test_create_api_key_prints_the_key_once_and_stores_its_hash(app: Flask) -> None:
    auditor = factories.make_staff("keys@example.test", "auditor")
    result = vaulta_cli(
        app, "create-api-key", "keys@example.test", "--name", "Export", "--scope",
        "audit.read", "--scope", "audit.export",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    assert raw.startswith("vk_")
    key = db.session.scalars(sa.select(ApiKey).where(ApiKey.user_id == auditor.id)).one()
    assert key.scopes == "audit.export audit.read"
    assert raw.rsplit("_", 1)[-1] not in key.secret_hash
    assert api_keys.authenticate(raw) is not None
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "api_key.created")
    ).one()
    assert event.actor_id is None
    assert event.details["owner_id"] == auditor.id
    refused = vaulta_cli(
        app,
        "create-api-key",
        "keys@example.test",
        "--name",
        "X",
        "--scope",
        "requests.decide",
    )
    assert refused.exit_code != 0
    assert "does not hold" in refused.output
