"""Managing endpoints: admins only, checked URLs and event types, SSRF refusals in
production, secrets kept encrypted."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from vaulta.extensions import db
from vaulta.models import AuditEvent, User, WebhookEndpoint
from vaulta.services.errors import Forbidden, InvalidInput, NotFound
from vaulta.services.webhooks import endpoints, secrets, urls


def test_only_admins_manage_endpoints(app: Flask, customer_user: User) -> None:
    with pytest.raises(Forbidden):
        endpoints.create_endpoint(
            actor=customer_user, url="https://hooks.example.test/h", event_types=["*"]
        )


def test_the_secret_is_shown_once_and_stored_encrypted(app: Flask, admin: User) -> None:
    made = endpoints.create_endpoint(
        actor=admin, url="https://hooks.example.test/h", event_types=["payment.executed"]
    )
    stored = db.session.scalars(sa.select(WebhookEndpoint)).one()
    assert made.secret not in stored.secret_encrypted
    assert secrets.decrypt(stored.secret_encrypted) == made.secret
    assert len(secrets.signing_key(made.secret)) == 32
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "webhook_endpoint.create" in actions
    assert all(made.secret not in str(e.details) for e in db.session.scalars(sa.select(AuditEvent)))


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["payment.executed", "payment.executed"], ["payment.executed"]),
        (["payment.*", "account.opened"], ["account.opened", "payment.*"]),
        (["*", "payment.created"], ["*"]),
    ],
)
def test_event_types_are_cleaned(types: list[str], expected: list[str]) -> None:
    assert endpoints.clean_event_types(types) == expected


@pytest.mark.parametrize("types", [[], ["nope.created"], ["payment.nope"]])
def test_unknown_event_types_are_refused(types: list[str]) -> None:
    with pytest.raises(InvalidInput):
        endpoints.clean_event_types(types)


def test_subscriptions_match_types_families_and_all() -> None:
    assert endpoints.wants(["payment.*"], "payment.executed")
    assert endpoints.wants(["*"], "account.closed")
    assert not endpoints.wants(["payment.created"], "payment.executed")


@pytest.mark.parametrize(
    "url",
    ["", "ftp://example.com/", "https://user:pw@example.com/", "https:///nohost", "javascript:1"],
)
def test_malformed_urls_are_refused(app: Flask, admin: User, url: str) -> None:
    with pytest.raises(InvalidInput):
        endpoints.create_endpoint(actor=admin, url=url, event_types=["*"])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
    ],
)
def test_in_production_internal_destinations_are_refused(app: Flask, admin: User, url: str) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    with pytest.raises(urls.RefusedDestination):
        endpoints.create_endpoint(actor=admin, url=url, event_types=["*"])


def test_in_testing_a_local_receiver_is_allowed(app: Flask, admin: User) -> None:
    assert app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] is True
    made = endpoints.create_endpoint(actor=admin, url="http://127.0.0.1:9/h", event_types=["*"])
    assert made.endpoint.url == "http://127.0.0.1:9/h"


def test_public_addresses_pass_the_production_check(app: Flask) -> None:
    app.config["WEBHOOK_ALLOW_PRIVATE_URLS"] = False
    urls.check_destination("https://93.184.215.14/hook")  # a literal public address


def test_update_rotate_and_delete(app: Flask, admin: User) -> None:
    made = endpoints.create_endpoint(
        actor=admin, url="https://hooks.example.test/a", event_types=["*"]
    )
    public_id = made.endpoint.public_id
    updated = endpoints.update_endpoint(
        public_id, actor=admin, url="https://hooks.example.test/b", description="Ledger sync"
    )
    assert (updated.url, updated.description) == ("https://hooks.example.test/b", "Ledger sync")
    with pytest.raises(InvalidInput):
        endpoints.rotate_secret(public_id, actor=admin, grace_hours=10_000)
    endpoints.delete_endpoint(public_id, actor=admin)
    with pytest.raises(NotFound):
        endpoints.delete_endpoint(public_id, actor=admin)
