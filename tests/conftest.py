"""Fixtures: an app on a migrated database (SQLite always, PostgreSQL when configured),
clients with CSRF tokens, and signed-in users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.databases import (
    SqliteTemplate,
    fresh_postgres_database,
    migrate_to_head,
    require_postgres,
    truncate_all,
)
from tests.webclient import WebClient, web_client
from vaulta import create_app
from vaulta.extensions import db as _db
from vaulta.models import Account, User
from vaulta.models.user import STAFF_APPROVER, STAFF_AUDITOR, STAFF_TELLER


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = require_postgres()
    with fresh_postgres_database(server, "app") as url:
        migrate_to_head(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test, on each backend."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_template").copy_to(tmp_path)
    else:
        url = request.getfixturevalue("postgres_url")
        try:
            yield url
        finally:
            truncate_all(url)


def _app_on(url: str) -> Iterator[Flask]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    app.test_client_class = WebClient
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    yield from _app_on(database_url)


@pytest.fixture
def sqlite_app(sqlite_template: SqliteTemplate, tmp_path: Path) -> Iterator[Flask]:
    """For the few tests about SQLite itself."""
    yield from _app_on(sqlite_template.copy_to(tmp_path))


@pytest.fixture
def backend(app: Flask) -> str:
    return _db.engine.dialect.name


@pytest.fixture
def client(app: Flask) -> WebClient:
    return web_client(app)


@pytest.fixture
def admin(app: Flask) -> User:
    return factories.make_admin("admin@example.test")


@pytest.fixture
def approver(app: Flask) -> User:
    return factories.make_staff("approver@example.test", STAFF_APPROVER, name="Test Approver")


@pytest.fixture
def second_approver(app: Flask) -> User:
    return factories.make_staff("approver2@example.test", STAFF_APPROVER, name="Second Approver")


@pytest.fixture
def teller(app: Flask) -> User:
    return factories.make_staff("teller@example.test", STAFF_TELLER, name="Test Teller")


@pytest.fixture
def auditor(app: Flask) -> User:
    return factories.make_staff("auditor@example.test", STAFF_AUDITOR, name="Test Auditor")


@pytest.fixture
def customer_user(app: Flask) -> User:
    return factories.make_customer_login("cust@example.test")


@pytest.fixture
def other_customer_user(app: Flask) -> User:
    return factories.make_customer_login("other@example.test")


@pytest.fixture
def admin_client(client: WebClient, admin: User) -> FlaskClient:
    client.sign_in(admin)
    return client


@pytest.fixture
def teller_client(client: WebClient, teller: User) -> FlaskClient:
    client.sign_in(teller)
    return client


@pytest.fixture
def approver_client(client: WebClient, approver: User) -> FlaskClient:
    client.sign_in(approver)
    return client


@pytest.fixture
def auditor_client(client: WebClient, auditor: User) -> FlaskClient:
    client.sign_in(auditor)
    return client


@pytest.fixture
def customer_client(client: WebClient, customer_user: User) -> FlaskClient:
    client.sign_in(customer_user)
    return client


@pytest.fixture
def source(customer_user: User) -> Account:
    """The customer's EUR account holding 1,000.00 (pays in payment tests)."""
    return factories.make_account(factories.customer_of(customer_user), "EUR", 100_000)


@pytest.fixture
def target(other_customer_user: User) -> Account:
    """Another customer's EUR account, empty."""
    return factories.make_account(factories.customer_of(other_customer_user), "EUR")
