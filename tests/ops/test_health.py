"""/healthz, the admin system page, the development banner and ProxyFix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, request
from flask.testing import FlaskClient

from tests import factories
from tests.migrations.test_flask_db import HEAD, REVISIONS
from vaulta import create_app
from vaulta.extensions import db


@pytest.fixture
def outdated(app: Flask) -> Iterator[str]:
    """The shared test database stamped one revision back (restored afterwards)."""
    previous = REVISIONS[-2]
    _stamp(previous)
    yield previous
    _stamp(HEAD)


def _stamp(revision: str) -> None:
    db.session.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    db.session.commit()


def test_healthz_ok_without_login_or_cookies(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body.pop("queue") == {
        "backend": "sqlite",
        "reachable": True,
        "pending_tasks": 0,
        "oldest_pending_age_seconds": None,
    }
    assert body == {"status": "ok", "database": "ok", "schema": f"{HEAD} (head)"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert client.head("/healthz").status_code == 200


def test_healthz_is_get_only_and_never_rate_limited(client: FlaskClient) -> None:
    assert client.post("/healthz").status_code in (400, 405)  # no CSRF token, no POST route
    assert {client.get("/healthz").status_code for _ in range(40)} == {200}


def test_healthz_503_when_not_at_newest_revision(client: FlaskClient, outdated: str) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
    assert response.json["database"] == "ok"
    assert outdated in response.json["schema"]
    assert "flask db upgrade" in response.json["schema"]


def test_healthz_503_when_database_unreachable() -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:9/x"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unreachable", "schema": "unknown"}


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("customer", 403), ("admin", 200)])
def test_system_page_access(app: Flask, client, who: str, status: int) -> None:
    if who == "customer":
        client.sign_in(factories.make_customer_login())
    elif who == "admin":
        client.sign_in(factories.make_admin())
    response = client.get("/admin/system")
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]


def test_system_page_shows_backend_and_pending(
    app: Flask, admin_client: FlaskClient, backend: str, outdated: str
) -> None:
    page = admin_client.get("/admin/system").get_data(as_text=True)
    assert backend in page
    assert outdated in page
    assert HEAD in page
    assert "1 revision(s) pending" in page


def test_system_page_at_head(admin_client: FlaskClient) -> None:
    page = admin_client.get("/admin/system").get_data(as_text=True)
    assert "up to date" in page
    assert "None: the database is at the newest revision." in page


def test_development_banner_only_when_outdated(database_url: str, outdated: str) -> None:
    overrides = {"SQLALCHEMY_DATABASE_URI": database_url, "SCHEMA_CHECK": "banner"}
    banner_app = create_app("testing", overrides)
    client = banner_app.test_client()
    try:
        page = client.get("/login").get_data(as_text=True)
        assert "schema-banner" in page
        assert "flask db upgrade" in page
        _stamp(HEAD)
        assert "schema-banner" not in client.get("/login").get_data(as_text=True)
    finally:
        with banner_app.app_context():
            db.engine.dispose()


def test_no_banner_when_check_is_off(client: FlaskClient, outdated: str) -> None:
    assert "schema-banner" not in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize(("hops", "expected"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_proxy_fix_trusts_the_configured_number_of_proxies(
    database_url: str, hops: int, expected: str
) -> None:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "PROXY_FIX_X_FOR": hops})

    @app.get("/_remote")
    def remote() -> str:
        return request.remote_addr or ""

    headers = {"X-Forwarded-For": "203.0.113.9"}
    response = app.test_client().get("/_remote", headers=headers)
    assert response.get_data(as_text=True) == expected


@pytest.fixture
def upgraded_by_newer_code(app: Flask) -> Iterator[str]:
    """The database stamped with a revision this code does not have (restored afterwards)."""
    _stamp("0a0a0a0a0a0a")
    yield "0a0a0a0a0a0a"
    _stamp(HEAD)


def test_a_database_newer_than_the_code_keeps_serving(
    admin_client: FlaskClient, upgraded_by_newer_code: str
) -> None:
    """After `upgrade-safely` ran with the next release, instances still on this release
    stay in the balancer until they are replaced (each release's revisions keep the
    previous release working; tests/ops/test_startup.py: their workers still boot)."""
    response = admin_client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert "newer than this code" in response.json["schema"]
    assert "newer than this code" in admin_client.get("/admin/system").get_data(as_text=True)
