"""Configuration: environments, DATABASE_URL handling, production refusals, SQLite pragmas."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from vaulta import create_app
from vaulta.config import ConfigError, normalise_database_url
from vaulta.extensions import db


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_uses_psycopg3(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_development_defaults_to_sqlite_in_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app("development")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/vaulta.db")


@pytest.mark.parametrize("name", ["development", "testing", "production"])
def test_every_config_honours_database_url(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/vaulta")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    app = create_app(name)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/vaulta"


@pytest.mark.parametrize("secret", [None, "", "dev", "changeme", "dev-insecure-key"])
def test_production_refuses_missing_or_default_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_missing_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app("production")


def test_production_cookies_are_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    app = create_app("production")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_unknown_config_name() -> None:
    with pytest.raises(ConfigError, match="Unknown configuration"):
        create_app("staging")


def test_sqlite_connections_are_set_up_for_money(sqlite_app: Flask) -> None:
    with db.engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")
        }
    assert pragmas == {
        "foreign_keys": 1,
        "journal_mode": "wal",
        "busy_timeout": 15000,
        "synchronous": 2,
    }


def test_sqlite_write_transactions_begin_immediately(sqlite_app: Flask) -> None:
    from vaulta.services.db import write_transaction

    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with write_transaction() as s:
        s.execute(sa.text("SELECT 1"))
    assert "BEGIN IMMEDIATE" in statements
