"""Outages answer 503 with Retry-After, and the app recovers by itself (vaulta/outages.py).

The PostgreSQL tests take a database of their own away for real: ``ALLOW_CONNECTIONS
false`` and ``pg_terminate_backend`` on every server connection, as a restart or failover
would; then they give it back and expect the very next requests to succeed.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.databases import (
    SqliteTemplate,
    fresh_postgres_database,
    migrate_to_head,
    require_postgres,
)
from tests.webclient import WebClient
from vaulta import create_app
from vaulta import database as vaulta_database
from vaulta.extensions import db
from vaulta.outages import database_unavailable
from vaulta.services.identity import api_keys

POOL_SIZE = 3
SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options")


@contextmanager
def _app_on(url: str, **config: object) -> Iterator[Flask]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **config})
    app.test_client_class = WebClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def pg_server() -> str:
    return require_postgres()


@pytest.fixture
def pg_app(pg_server: str) -> Iterator[Flask]:
    """An app on a PostgreSQL database of its own, with a small pool."""
    with fresh_postgres_database(pg_server, "outage") as url:
        migrate_to_head(url)
        options = {"pool_size": POOL_SIZE, "max_overflow": 0}
        with _app_on(url, SQLALCHEMY_ENGINE_OPTIONS=options) as app:
            yield app
        _allow_connections(pg_server, url, allowed=True)  # so the fixture can drop it


def _database_name(app: Flask) -> str:
    name = db.engine.url.database
    assert name
    return name


def _admin_run(server: str, sql: str, **params: str) -> None:
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql), params)
    engine.dispose()


def _allow_connections(server: str, url: str, *, allowed: bool) -> None:
    name = sa.engine.make_url(url).database
    _admin_run(server, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}')


def _terminate_backends(server: str, name: str) -> None:
    _admin_run(
        server,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = :name AND pid <> pg_backend_pid()",
        name=name,
    )


def _fill_the_pool() -> None:
    """Open POOL_SIZE connections at once and give them back: the pool holds them all,
    each recently used (no idle time before the next request)."""
    with ExitStack() as stack:
        for _ in range(POOL_SIZE):
            stack.enter_context(db.engine.connect()).exec_driver_sql("SELECT 1")
    db.session.remove()


def _signed_in_customer(app: Flask) -> tuple[WebClient, str]:
    user = factories.make_customer_login("outage@example.test")
    factories.make_account(factories.customer_of(user), "EUR", 5_000)
    raw_key = api_keys.create(user, "outage", ["read"]).raw
    client = app.test_client()
    assert isinstance(client, WebClient)
    client.sign_in(user)
    return client, raw_key


def _assert_outage_page(response, *, reload: bool = True) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"
    assert response.headers["Cache-Control"] == "no-store"
    for header in SECURITY_HEADERS:
        assert header in response.headers
    page = response.get_data(as_text=True)
    assert "Temporarily unavailable" in page
    assert "Traceback" not in page
    assert "OperationalError" not in page
    assert ('http-equiv="refresh"' in page) is reload


def test_postgresql_outage_answers_503_then_recovers_without_a_restart(
    pg_app: Flask, pg_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    client, raw_key = _signed_in_customer(pg_app)
    bearer = {"Authorization": f"Bearer {raw_key}"}
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/accounts", headers=bearer).status_code == 200
    _fill_the_pool()
    name = _database_name(pg_app)
    url = db.engine.url.render_as_string(hide_password=False)

    _allow_connections(pg_server, url, allowed=False)
    _terminate_backends(pg_server, name)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        _assert_outage_page(client.get("/"))  # the signed-in user cannot even be loaded
        htmx = client.htmx("GET", "/")
        assert htmx.status_code == 503
        assert htmx.headers["HX-Retarget"] == "#messages"
        assert htmx.headers["Retry-After"] == "10"
        assert "Temporarily unavailable" in htmx.get_data(as_text=True)
        api = client.get("/api/v1/accounts", headers=bearer)
        assert api.status_code == 503
        assert api.headers["Retry-After"] == "10"
        assert api.json is not None
        assert api.json["error"]["code"] == "unavailable"
        assert "Idempotency-Key" in api.json["error"]["message"]
        health = pg_app.test_client().get("/healthz")
        assert health.status_code == 503
        assert health.json is not None
        assert health.json["database"] == "unreachable"
    outage_logs = [r for r in caplog.records if r.name == "vaulta.outages"]
    assert all(r.levelno == logging.WARNING and "\n" not in r.getMessage() for r in outage_logs)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert raw_key.split("_", 2)[2] not in caplog.text  # no SQL parameters (the secret) in the log

    _allow_connections(pg_server, url, allowed=True)
    # More requests than the pool has connections: none of them meets a dead one.
    for _ in range(POOL_SIZE + 2):
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/accounts", headers=bearer).status_code == 200
    assert pg_app.test_client().get("/healthz").status_code == 200


def test_a_form_post_during_an_outage_gets_503_without_a_reload(
    pg_app: Flask, pg_server: str
) -> None:
    factories.make_customer_login("poster@example.test")
    client = pg_app.test_client()
    assert isinstance(client, WebClient)
    url = db.engine.url.render_as_string(hide_password=False)
    _allow_connections(pg_server, url, allowed=False)
    _terminate_backends(pg_server, _database_name(pg_app))
    response = client.post_form(
        "/login", {"email": "poster@example.test", "password": factories.PASSWORD}
    )
    _assert_outage_page(response, reload=False)
    assert "Check whether your last change was saved" in response.get_data(as_text=True)


def test_a_server_restart_between_requests_costs_no_request(pg_app: Flask, pg_server: str) -> None:
    """Every pooled connection dropped by the server moments after its last use: each is
    found dead before use and replaced, so no request fails (not even with a 503)."""
    client, raw_key = _signed_in_customer(pg_app)
    bearer = {"Authorization": f"Bearer {raw_key}"}
    assert client.get("/").status_code == 200
    _fill_the_pool()
    _terminate_backends(pg_server, _database_name(pg_app))
    for _ in range(POOL_SIZE + 2):
        assert client.get("/").status_code == 200
        assert client.get("/api/v1/accounts", headers=bearer).status_code == 200


@pytest.fixture
def sqlite_file(sqlite_template: SqliteTemplate, tmp_path: Path) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    return Path(sqlite_template.copy_to(directory).removeprefix("sqlite:///"))


def test_sqlite_busy_past_the_busy_timeout_answers_503(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock longer than busy_timeout: writes get 503 with
    Retry-After, reads go on (WAL)."""
    pragmas = tuple(
        "PRAGMA busy_timeout=50" if p.startswith("PRAGMA busy_timeout") else p
        for p in vaulta_database.SQLITE_PRAGMAS
    )
    monkeypatch.setattr(vaulta_database, "SQLITE_PRAGMAS", pragmas)
    with _app_on(f"sqlite:///{sqlite_file}") as app:
        user = factories.make_customer_login("busy@example.test")
        reader = app.test_client()
        assert isinstance(reader, WebClient)
        reader.sign_in(user)
        other_process = sqlite3.connect(sqlite_file, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")
        try:
            assert reader.get("/").status_code == 200  # reads are not blocked
            sign_in = app.test_client()
            assert isinstance(sign_in, WebClient)
            response = sign_in.post_form(
                "/login", {"email": "busy@example.test", "password": factories.PASSWORD}
            )
            _assert_outage_page(response, reload=False)
        finally:
            other_process.execute("ROLLBACK")
            other_process.close()
        response = app.test_client().post_form(  # type: ignore[attr-defined]
            "/login", {"email": "busy@example.test", "password": factories.PASSWORD}
        )
        assert response.status_code == 302


def test_sqlite_file_that_cannot_be_opened_answers_503(sqlite_file: Path) -> None:
    with _app_on(f"sqlite:///{sqlite_file}") as app:
        user = factories.make_customer_login("gone@example.test")
        client = app.test_client()
        assert isinstance(client, WebClient)
        client.sign_in(user)
        assert client.get("/").status_code == 200
        backup = sqlite_file.parent.with_name("moved-away")
        shutil.move(sqlite_file.parent, backup)  # the volume is gone
        db.session.remove()
        db.engine.dispose()
        _assert_outage_page(client.get("/"))
        shutil.move(backup, sqlite_file.parent)  # and back
        assert client.get("/").status_code == 200


def test_database_errors_that_are_bugs_still_get_500(sqlite_file: Path) -> None:
    with _app_on(f"sqlite:///{sqlite_file}", PROPAGATE_EXCEPTIONS=False) as app:
        user = factories.make_customer_login("bug@example.test")
        client = app.test_client()
        assert isinstance(client, WebClient)
        client.sign_in(user)
        db.session.execute(sa.text("DROP TABLE api_keys"))  # "no such table": SQLITE_ERROR
        db.session.commit()
        response = client.get("/settings")
        assert response.status_code == 500
        assert "Retry-After" not in response.headers


def test_an_exhausted_pool_answers_503(database_url: str) -> None:
    options = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 0.2}
    with _app_on(database_url, SQLALCHEMY_ENGINE_OPTIONS=options) as app:
        user = factories.make_customer_login("pool@example.test")
        client = app.test_client()
        assert isinstance(client, WebClient)
        client.sign_in(user)
        db.session.remove()
        with db.engine.connect():  # the only connection, held elsewhere
            response = client.get("/", headers={"HX-Request": "true"})
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "10"
        assert client.get("/").status_code == 200


def test_an_unreachable_redis_answers_503(database_url: str) -> None:
    with _app_on(database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0") as app:
        factories.make_customer_login("redis@example.test")
        client = app.test_client()
        assert isinstance(client, WebClient)
        response = client.post_form(
            "/login", {"email": "redis@example.test", "password": factories.PASSWORD}
        )
        _assert_outage_page(response, reload=False)


def _dbapi_error(orig: Exception, cls: type[sa.exc.DBAPIError] = sa.exc.OperationalError):
    return cls("SELECT 1", {"token": "secret"}, orig)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (_dbapi_error(psycopg.OperationalError("connection failed")), True),
        (_dbapi_error(psycopg.errors.AdminShutdown()), True),  # 57P01
        (_dbapi_error(psycopg.errors.CannotConnectNow()), True),  # 57P03
        (_dbapi_error(psycopg.errors.TooManyConnections()), True),  # 53300
        (_dbapi_error(psycopg.errors.QueryCanceled()), True),  # 57014 statement_timeout
        (_dbapi_error(psycopg.errors.LockNotAvailable()), True),  # 55P03 lock_timeout
        (_dbapi_error(psycopg.errors.SerializationFailure()), True),  # 40001
        (_dbapi_error(psycopg.errors.ProgramLimitExceeded()), False),  # 54000: the input
        (_dbapi_error(psycopg.errors.ObjectNotInPrerequisiteState()), False),  # 55000
        (_dbapi_error(psycopg.errors.UniqueViolation(), sa.exc.IntegrityError), False),
        (_dbapi_error(psycopg.errors.UndefinedTable(), sa.exc.ProgrammingError), False),
        (sa.exc.DisconnectionError("gone"), True),
        (sa.exc.TimeoutError("QueuePool limit reached"), True),
        (sa.exc.InvalidRequestError("a bug"), False),
        (RuntimeError("not a database error"), False),
    ],
    ids=lambda value: type(getattr(value, "orig", value)).__name__,
)
def test_which_database_errors_count_as_an_outage(error: BaseException, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def test_sqlite_result_codes_decide_too(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError) as missing_table:
        conn.execute("SELECT * FROM nowhere")
    with pytest.raises(sqlite3.OperationalError) as cannot_open:
        sqlite3.connect(tmp_path / "no" / "such" / "dir.db")
    assert not database_unavailable(_dbapi_error(missing_table.value))
    assert database_unavailable(_dbapi_error(cannot_open.value))


def test_a_disconnect_flagged_by_sqlalchemy_is_an_outage() -> None:
    error = _dbapi_error(psycopg.InterfaceError("the connection is closed"), sa.exc.InterfaceError)
    assert not database_unavailable(error)
    error.connection_invalidated = True
    assert database_unavailable(error)
