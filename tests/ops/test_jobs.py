"""Background jobs on Huey: which queue is built, the nudge after a commit that wrote events,
and each periodic job run at once (Huey's immediate mode: no sleeping). Huey keeps no
result of a periodic task, so the tests look at what each run did."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from huey import RedisHuey, SqliteHuey

from tests import factories
from tests.services.fx.support import load_rates, two_accounts
from tests.services.payments.factories import make_payment
from tests.webhook_receiver import receiver
from vaulta.extensions import db
from vaulta.models import (
    Account,
    ApiIdempotencyKey,
    AuditEvent,
    FxQuote,
    Payment,
    User,
    utcnow,
)
from vaulta.models.base import clock_set_to
from vaulta.ops.queue import EXTENSION, build, health, queue
from vaulta.services import audit
from vaulta.services.ledger.fx import quotes
from vaulta.services.unit_of_work import write_transaction
from vaulta.services.webhooks import endpoints


@pytest.fixture(autouse=True)
def _private_outbox(app: Flask, tmp_path: Path) -> None:
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")


def _mails(app: Flask) -> list[dict[str, str]]:
    return [json.loads(p.read_text()) for p in Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.json")]


def test_sqlite_by_default_redis_when_configured(tmp_path: Path) -> None:
    sqlite = build({}, str(tmp_path))
    assert isinstance(sqlite, SqliteHuey)
    assert sqlite.storage.filename == str(tmp_path / "tasks.db")
    redis = build({"TASK_QUEUE_URL": "redis://127.0.0.1:6379/3"}, str(tmp_path))
    assert isinstance(redis, RedisHuey)
    with pytest.raises(ValueError, match="redis://"):
        build({"TASK_QUEUE_URL": "amqp://elsewhere"}, str(tmp_path))


def test_tests_run_tasks_immediately(app: Flask) -> None:
    assert queue(app).immediate is True


def test_a_commit_with_events_schedules_a_delivery_run(app: Flask, admin: User) -> None:
    huey = queue(app)
    before = huey.scheduled_count()
    factories.make_customer()  # customer.created
    assert huey.scheduled_count() == before + 1
    [task] = [t for t in huey.scheduled() if t.name == "vaulta.deliver_webhooks"][-1:]
    assert task.eta is not None


def test_the_delivery_job_sends_what_waited_while_no_worker_ran(app: Flask, admin: User) -> None:
    with receiver() as hook:
        endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["customer.*"])
        factories.make_customer()
        factories.make_customer()
        waiting = health(app)
        assert waiting["reachable"] is True
        assert waiting["oldest_pending_age_seconds"] is not None
        app.extensions[EXTENSION].deliver_webhooks()
    assert [json.loads(r.body)["type"] for r in hook.received] == ["customer.created"] * 2
    db.session.rollback()
    assert health(app)["oldest_pending_age_seconds"] is None


def test_a_failed_delivery_schedules_its_retry(app: Flask, admin: User) -> None:
    with receiver() as hook:
        hook.statuses = [500]
        endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["*"])
        factories.make_customer()
        huey = queue(app)
        app.extensions[EXTENSION].deliver_webhooks()
        retries = [t for t in huey.scheduled() if t.name == "vaulta.deliver_one"]
        assert len(retries) == 1
        delivery_id = retries[0].args[0]
        with clock_set_to(utcnow() + timedelta(seconds=31)):
            assert app.extensions[EXTENSION].deliver_one(delivery_id).get() is True
    assert len(hook.ids()) == 2
    assert hook.ids()[0] == hook.ids()[1]


def test_the_expiry_job(app: Flask, customer_user: User, other_customer_user: User) -> None:
    source = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    target = factories.make_account(factories.customer_of(other_customer_user), "EUR")
    payment = make_payment(customer_user, source, to=target)
    with clock_set_to(utcnow() + timedelta(days=30)):
        app.extensions[EXTENSION].expire_payments()
    db.session.rollback()
    assert db.session.get(Payment, payment.id).status == "expired"  # type: ignore[union-attr]


def _stored_response_three_days_old(user: User) -> None:
    """A stored Idempotency-Key response older than API_IDEMPOTENCY_RETENTION_HOURS."""
    db.session.add(
        ApiIdempotencyKey(
            user_id=user.id,
            key="old",
            request_hash="0" * 64,
            response_status=201,
            response_body={},
            created_at=utcnow() - timedelta(days=3),
        )
    )
    db.session.commit()


def test_the_purge_job(app: Flask, customer_user: User) -> None:
    _stored_response_three_days_old(customer_user)
    app.extensions[EXTENSION].purge_idempotency_keys()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiIdempotencyKey)) == 0


def test_the_purge_job_purges_fx_quotes_expired_for_the_retention(
    app: Flask, customer_user: User
) -> None:
    load_rates()
    eur, usd = two_accounts(customer_user)
    with clock_set_to(utcnow() - timedelta(hours=26)):
        old = quotes.request_quote(
            customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=1_000
        ).id
    fresh = quotes.request_quote(
        customer_user, from_account_id=eur.id, to_account_id=usd.id, amount_minor=1_000
    ).id
    app.extensions[EXTENSION].purge_idempotency_keys()
    db.session.rollback()
    assert set(db.session.scalars(sa.select(FxQuote.id))) == {fresh}
    assert old != fresh


def test_the_nightly_ledger_check_mails_admins_when_it_fails(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_000)
    app.extensions[EXTENSION].nightly_verify_ledger()
    assert not [m for m in _mails(app) if "ledger" in m["subject"]]
    db.session.execute(
        sa.update(Account).where(Account.id == account.id).values(balance_minor=999_999)
    )
    db.session.commit()
    app.extensions[EXTENSION].nightly_verify_ledger()
    sent = [m for m in _mails(app) if "ledger check failed" in m["subject"]]
    assert admin.email in {m["to"] for m in sent}


def test_the_nightly_audit_check_mails_admins_when_the_chain_is_broken(
    app: Flask, admin: User
) -> None:
    with write_transaction() as s:
        audit.record(s, actor=admin, action="test.one", object_type="test", details={})
    app.extensions[EXTENSION].nightly_verify_audit()  # a periodic task: no stored result
    assert not [m for m in _mails(app) if "audit chain" in m["subject"]]
    first = db.session.scalar(sa.select(sa.func.min(AuditEvent.id)))
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.id == first).values(action="edited.by_hand")
    )
    db.session.commit()
    app.extensions[EXTENSION].nightly_verify_audit()
    sent = [m for m in _mails(app) if "audit chain check failed" in m["subject"]]
    assert admin.email in {m["to"] for m in sent}
    assert all(f"event #{first} does not match its hash" in m["body"] for m in sent)


def test_jobs_skip_their_run_during_maintenance(app: Flask, customer_user: User) -> None:
    from vaulta.services import maintenance

    _stored_response_three_days_old(customer_user)
    maintenance.turn_on(db.engine, "Jobs wait", "tests")
    app.extensions[EXTENSION].purge_idempotency_keys()  # skipped, no error
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiIdempotencyKey)) == 1


def test_the_worker_command_refuses_immediate_mode(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["vaulta", "worker"])
    assert result.exit_code != 0
    assert "TASK_QUEUE_IMMEDIATE" in result.output
