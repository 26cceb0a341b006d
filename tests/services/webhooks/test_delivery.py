"""Webhook delivery to a real receiver on 127.0.0.1: Standard Webhooks signatures checked
with the ``standardwebhooks`` library, retries with backoff, redelivery after a worker
died mid-send, giving up and disabling after 3 days, secret rotation."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from standardwebhooks import Webhook

from tests import factories
from tests.webhook_receiver import Receiver
from vaulta.extensions import db
from vaulta.models import User, WebhookAttempt, WebhookDelivery, WebhookEndpoint, utcnow
from vaulta.models.base import clock_set_to
from vaulta.services.webhooks import dispatch, endpoints


def _deliveries() -> list[WebhookDelivery]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _endpoint(public_id: str) -> WebhookEndpoint:
    db.session.rollback()
    found = db.session.scalar(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.public_id == public_id)
    )
    assert found is not None
    return found


def test_an_event_reaches_the_receiver_signed_per_the_standard(
    app: Flask, admin: User, hook: Receiver
) -> None:
    made = endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["customer.*"])
    assert made.secret.startswith("whsec_")
    customer = factories.make_customer(name="Grace Hopper")
    dispatch.fan_out()
    outcomes = dispatch.deliver_due()
    assert [o.succeeded for o in outcomes] == [True]
    assert len(hook.received) == 1
    got = hook.received[0]
    payload = Webhook(made.secret).verify(got.body, got.headers)
    assert payload["type"] == "customer.created"
    assert payload["data"]["id"] == customer.id
    assert set(payload) == {"type", "timestamp", "data"}
    assert got.headers["webhook-id"].startswith("evt_")
    assert got.headers["webhook-signature"].startswith("v1,")
    with pytest.raises(Exception, match="signature"):
        Webhook(endpoints.secrets.new_secret()).verify(got.body, got.headers)
    [delivery] = _deliveries()
    assert (delivery.status, delivery.attempt_count) == ("delivered", 1)
    attempt = db.session.scalars(sa.select(WebhookAttempt)).one()
    assert attempt.outcome == "succeeded"
    assert attempt.response_status == 200
    assert attempt.latency_ms >= 0
    assert attempt.response_excerpt == '{"ok": true}'


def test_only_wanted_events_and_enabled_endpoints_get_deliveries(
    app: Flask, admin: User, hook: Receiver
) -> None:
    accounts_only = endpoints.create_endpoint(
        actor=admin, url=hook.url, event_types=["account.opened"]
    )
    endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["*"], enabled=False)
    customer = factories.make_customer()
    factories.make_account(customer, "EUR")
    assert dispatch.fan_out() == 2  # customer.created, account.opened
    [delivery] = _deliveries()
    assert delivery.endpoint_id == _endpoint(accounts_only.endpoint.public_id).id
    assert dispatch.fan_out() == 0  # dispatched once


def test_a_failing_receiver_is_retried_with_backoff_until_it_recovers(
    app: Flask, admin: User, hook: Receiver
) -> None:
    made = endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["*"])
    factories.make_customer()
    dispatch.fan_out()
    hook.statuses = [500, 503]
    first = dispatch.deliver_due()
    assert [o.succeeded for o in first] == [False]
    assert first[0].retry_in is not None
    assert 0 < first[0].retry_in <= 30  # the first retry within 30 s
    assert dispatch.deliver_due() == []  # not due yet
    [delivery] = _deliveries()
    with clock_set_to(delivery.next_attempt_at):
        second = dispatch.deliver_due()
    assert second[0].status == 503
    assert second[0].retry_in is not None
    assert second[0].retry_in > 15 * 4 * 0.5 - 1  # backing off
    [delivery] = _deliveries()
    with clock_set_to(delivery.next_attempt_at):
        assert [o.succeeded for o in dispatch.deliver_due()] == [True]
    assert len(set(hook.ids())) == 1  # the same webhook-id every time
    for got in hook.received:
        Webhook(made.secret).verify(got.body, got.headers)
    attempts = db.session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.outcome, a.response_status) for a in attempts] == [
        ("failed", 500),
        ("failed", 503),
        ("succeeded", 200),
    ]
    assert attempts[0].response_excerpt == "receiver says no"
    assert _endpoint(made.endpoint.public_id).failing_since is None


def test_a_worker_killed_mid_delivery_is_redelivered_with_the_same_id(
    app: Flask, admin: User, hook: Receiver
) -> None:
    endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["*"])
    factories.make_customer()
    dispatch.fan_out()
    [delivery_id] = dispatch.due_ids()
    message = dispatch.claim(delivery_id)
    assert message is not None
    dispatch.send(message)  # the receiver got it; the worker died before recording it
    assert dispatch.claim(delivery_id) is None  # claimed: no other worker sends it meanwhile
    assert dispatch.deliver_due() == []
    later = utcnow() + timedelta(seconds=dispatch.LEASE_SECONDS + 1)
    with clock_set_to(later):
        assert [o.succeeded for o in dispatch.deliver_due()] == [True]
    assert len(hook.received) == 2
    assert hook.ids()[0] == hook.ids()[1]  # the receiver dedupes by webhook-id
    assert json.loads(hook.received[0].body) == json.loads(hook.received[1].body)


def test_an_endpoint_failing_for_three_days_is_disabled_and_admins_are_mailed(
    app: Flask, admin: User, hook: Receiver
) -> None:
    made = endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["*"])
    factories.make_customer()
    dispatch.fan_out()
    hook.statuses = [500] * 100
    start = utcnow()
    assert dispatch.deliver_due()[0].succeeded is False
    with clock_set_to(start + timedelta(hours=72, seconds=1)):
        outcome = dispatch.deliver_due()
    assert [o.retry_in for o in outcome] == [None]  # given up
    [delivery] = _deliveries()
    assert delivery.status == "failed"
    endpoint = _endpoint(made.endpoint.public_id)
    assert endpoint.enabled is False
    assert endpoint.disabled_reason
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    mails = [json.loads(p.read_text()) for p in outbox.glob("*.json")]
    assert {m["to"] for m in mails if "disabled" in m["subject"]} >= {admin.email}
    endpoints.update_endpoint(made.endpoint.public_id, actor=admin, enabled=True)
    assert _endpoint(made.endpoint.public_id).failing_since is None


def test_after_a_rotation_old_and_new_secrets_both_sign_for_the_grace_period(
    app: Flask, admin: User, hook: Receiver
) -> None:
    made = endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["*"])
    rotated = endpoints.rotate_secret(made.endpoint.public_id, actor=admin, grace_hours=1)
    assert rotated.secret != made.secret
    factories.make_customer()
    dispatch.fan_out()
    dispatch.deliver_due()
    got = hook.received[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(made.secret).verify(got.body, got.headers)
    Webhook(rotated.secret).verify(got.body, got.headers)
    factories.make_customer()
    dispatch.fan_out()
    with clock_set_to(utcnow() + timedelta(hours=2)):
        dispatch.deliver_due()
    late = hook.received[-1]
    assert len(late.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(late.body, late.headers)


def test_replay_one_delivery_or_everything_since_a_time(
    app: Flask, admin: User, hook: Receiver
) -> None:
    start = utcnow() - timedelta(seconds=1)
    factories.make_customer()  # before the endpoint existed
    dispatch.fan_out()
    made = endpoints.create_endpoint(actor=admin, url=hook.url, event_types=["customer.*"])
    factories.make_customer()
    dispatch.fan_out()
    dispatch.deliver_due()
    assert len(hook.received) == 1
    [delivery] = _deliveries()
    public_id = made.endpoint.public_id
    assert endpoints.replay(public_id, actor=admin, delivery_id=delivery.id) == 1
    dispatch.deliver_due()
    assert len(hook.received) == 2
    assert hook.ids()[0] == hook.ids()[1]
    assert endpoints.replay(public_id, actor=admin, since=start) == 2
    dispatch.deliver_due()
    assert len(hook.received) == 4
    assert len(set(hook.ids())) == 2
