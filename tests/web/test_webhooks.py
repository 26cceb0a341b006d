"""Webhook endpoints over HTTP: the admin pages and ``/api/v1/webhook-endpoints`` (admins'
session, CSRF header on writes), and the delivery log a live receiver fills."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from standardwebhooks import Webhook

from tests import factories
from tests.webclient import WebClient
from tests.webhook_receiver import receiver
from vaulta.extensions import db
from vaulta.models import AuditEvent, User, WebhookEndpoint
from vaulta.services.webhooks import dispatch

API = "/api/v1/webhook-endpoints"


def _json(client: WebClient, method: str, url: str, body: Any = None) -> Any:
    headers = {"X-CSRFToken": client.csrf_token()}
    return client.open(url, method=method, json=body, headers=headers)


def test_admin_adds_an_endpoint_and_sees_the_secret_once(admin_client: WebClient) -> None:
    response = admin_client.post_form(
        "/admin/webhooks/",
        {
            "url": "https://hooks.example.test/hook",
            "event_types": ["payment.*"],
            "description": "ERP",
        },
    )
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    assert "whsec_" in page
    secret = page.split("whsec_", 1)[1].split("<", 1)[0]
    listing = admin_client.get("/admin/webhooks/").get_data(as_text=True)
    assert "https://hooks.example.test/hook" in listing
    assert secret not in listing
    endpoint = db.session.scalars(sa.select(WebhookEndpoint)).one()
    detail = admin_client.get(f"/admin/webhooks/{endpoint.public_id}")
    assert detail.status_code == 200
    assert secret not in detail.get_data(as_text=True)


def test_the_form_shows_what_is_wrong(admin_client: WebClient, app: Flask) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    response = admin_client.post_form(
        "/admin/webhooks/", {"url": "http://127.0.0.1/hook", "event_types": ["*"]}
    )
    assert response.status_code == 422
    assert "internal address" in response.get_data(as_text=True)


def test_the_delivery_log_shows_each_attempt(admin_client: WebClient, admin: User) -> None:
    with receiver() as hook:
        hook.statuses = [500]
        admin_client.post_form(
            "/admin/webhooks/", {"url": hook.url, "event_types": ["*"], "enabled": "y"}
        )
        endpoint = db.session.scalars(sa.select(WebhookEndpoint)).one()
        factories.make_customer(name="Logged Customer")
        dispatch.fan_out()
        dispatch.deliver_due()
        page = admin_client.get(f"/admin/webhooks/{endpoint.public_id}").get_data(as_text=True)
    log = page[page.index('id="delivery-log"') :]
    assert "customer.created" in log
    assert "failed · 500" in log
    assert "receiver says no" in page
    delivery_id = page.split("/deliveries/", 1)[1].split("/", 1)[0]
    replayed = admin_client.post_form(
        f"/admin/webhooks/{endpoint.public_id}/deliveries/{delivery_id}/replay"
    )
    assert replayed.status_code == 302


def test_the_api_manages_endpoints(admin_client: WebClient, app: Flask) -> None:
    created = _json(
        admin_client,
        "POST",
        API,
        {
            "url": "https://hooks.example.test/a",
            "event_types": ["account.opened"],
            "description": "x",
        },
    )
    assert created.status_code == 201
    body = created.json
    assert body["secret"].startswith("whsec_")
    public_id = body["id"]
    assert created.headers["Location"] == f"{API}/{public_id}"
    listed = admin_client.get(API).json["items"]
    assert [e["id"] for e in listed] == [public_id]
    assert "secret" not in listed[0]
    changed = _json(admin_client, "PATCH", f"{API}/{public_id}", {"enabled": False})
    assert changed.status_code == 200
    assert changed.json["enabled"] is False
    assert changed.json["url"] == "https://hooks.example.test/a"
    rotated = _json(admin_client, "POST", f"{API}/{public_id}/rotate-secret", {"grace_hours": 2})
    assert rotated.json["secret"] != body["secret"]
    assert rotated.json["secret_rotation_ends_at"]
    replay = _json(
        admin_client, "POST", f"{API}/{public_id}/replay", {"since": "2026-01-01T00:00:00Z"}
    )
    assert replay.status_code == 200
    assert replay.json == {"replayed": 0}
    detail = admin_client.get(f"{API}/{public_id}").json
    assert detail["deliveries"] == []
    assert _json(admin_client, "DELETE", f"{API}/{public_id}").status_code == 204
    assert admin_client.get(f"{API}/{public_id}").status_code == 404
    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert {"webhook_endpoint.create", "webhook_endpoint.delete"} <= actions


def test_the_api_refuses_bad_bodies(admin_client: WebClient) -> None:
    for body in (
        {"url": "https://hooks.example.test/a"},
        {"url": "https://hooks.example.test/a", "event_types": "payment.*"},
        {"url": "https://hooks.example.test/a", "event_types": ["*"], "secret": "mine"},
        {"url": "ftp://example.com/a", "event_types": ["*"]},
        ["not", "an", "object"],
    ):
        response = _json(admin_client, "POST", API, body)
        assert response.status_code == 422, body
        assert response.json["error"]["code"]
    no_json = admin_client.post(API, data="x", headers={"X-CSRFToken": admin_client.csrf_token()})
    assert no_json.status_code == 422


def test_the_api_is_for_signed_in_admins_with_the_csrf_token(
    client: WebClient, customer_client: FlaskClient, admin: User
) -> None:
    assert customer_client.get(API).status_code == 403
    customer_client.delete_cookie("session")
    anonymous = client.get(API)
    assert anonymous.status_code == 401
    assert anonymous.json["error"]["code"] == "unauthorized"
    client.sign_in(admin)
    forged = client.post(API, json={"url": "https://hooks.example.test/", "event_types": ["*"]})
    assert forged.status_code == 400


def test_a_delivery_made_through_the_api_verifies(admin_client: WebClient) -> None:
    with receiver() as hook:
        secret = _json(
            admin_client, "POST", API, {"url": hook.url, "event_types": ["customer.created"]}
        ).json["secret"]
        factories.make_customer()
        dispatch.fan_out()
        dispatch.deliver_due()
    [got] = hook.received
    assert Webhook(secret).verify(got.body, got.headers)["type"] == "customer.created"
