"""Configuration: environments, DATABASE_URL handling, production refusals, SQLite pragmas."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import sql_statements
from vaulta import create_app
from vaulta.config import ConfigError, normalise_database_url, secret_key_problem
from vaulta.extensions import db

GOOD_KEY = "a-long-random-production-secret-0123456789"
MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment a production app needs, with one worker declared (no Redis)."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("RATELIMIT_SINGLE_PROCESS", "1")
    for name in ("RATELIMIT_STORAGE_URI", "SECRET_KEY_FALLBACKS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


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
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("RATELIMIT_SINGLE_PROCESS", "1")
    app = create_app(name)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/vaulta"


WEAK_SECRETS = [
    None,
    "",
    "a",
    "dev",
    "test",
    "flask",
    "secret",
    "password",
    "PASSWORD",
    "changeme",
    "Change-Me",
    "supersecret",
    "your-secret-key",
    "dev-insecure-key",
    "testing-secret-key",
    secrets.token_urlsafe(23),  # 31 characters: random, but too short
    "x" * 64,  # one character repeated
    "ab" * 32,
    "changeme" * 5,  # a well-known value repeated past the length limit
    "your_secret_key-your_secret_key-your_secret_key",
    "django-insecure-" + secrets.token_urlsafe(32),
]


@pytest.mark.parametrize("secret", WEAK_SECRETS, ids=lambda s: repr(s)[:24])
def test_production_refuses_a_missing_short_or_well_known_secret(
    production_env: pytest.MonkeyPatch, secret: str | None
) -> None:
    if secret is None:
        production_env.delenv("SECRET_KEY", raising=False)
    else:
        production_env.setenv("SECRET_KEY", secret)
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        create_app("production")
    assert MAKE_ONE in str(refused.value)  # says how to make a good one


@pytest.mark.parametrize(
    "secret", [secrets.token_urlsafe(48), secrets.token_hex(16), secrets.token_urlsafe(24)]
)
def test_production_accepts_a_random_secret_of_32_characters_or_more(
    production_env: pytest.MonkeyPatch, secret: str
) -> None:
    production_env.setenv("SECRET_KEY", secret)
    assert create_app("production").config["SECRET_KEY"] == secret
    assert secret_key_problem(secret.encode()) is None  # Flask also takes bytes


def test_production_checks_every_secret_key_fallback(production_env: pytest.MonkeyPatch) -> None:
    old_key = secrets.token_urlsafe(48)
    production_env.setenv("SECRET_KEY_FALLBACKS", f"{old_key}, changeme")
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS entry 2") as refused:
        create_app("production")
    assert MAKE_ONE in str(refused.value)
    production_env.setenv("SECRET_KEY_FALLBACKS", old_key)
    assert create_app("production").config["SECRET_KEY_FALLBACKS"] == [old_key]
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS entry 1"):
        create_app("production", {"SECRET_KEY_FALLBACKS": ["secret"]})


def test_production_refuses_in_memory_rate_limits_without_a_single_worker(
    production_env: pytest.MonkeyPatch,
) -> None:
    production_env.delenv("RATELIMIT_SINGLE_PROCESS")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI is memory://") as refused:
        create_app("production")
    message = str(refused.value)
    assert "N times every limit" in message
    assert "RATELIMIT_SINGLE_PROCESS=1" in message
    production_env.setenv("RATELIMIT_SINGLE_PROCESS", "0")
    with pytest.raises(ConfigError, match="memory://"):
        create_app("production")


@pytest.mark.parametrize(
    ("variable", "value"),
    [("RATELIMIT_SINGLE_PROCESS", "1"), ("RATELIMIT_STORAGE_URI", "redis://redis.internal:6379/0")],
)
def test_production_starts_with_shared_limits_or_one_declared_worker(
    production_env: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    production_env.delenv("RATELIMIT_SINGLE_PROCESS")
    production_env.setenv(variable, value)
    assert create_app("production").config[variable] == value


def test_development_keeps_in_memory_limits_and_its_placeholder_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SECRET_KEY", "RATELIMIT_STORAGE_URI", "RATELIMIT_SINGLE_PROCESS"):
        monkeypatch.delenv(name, raising=False)
    app = create_app("development")
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_production_refuses_missing_database_url(production_env: pytest.MonkeyPatch) -> None:
    production_env.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app("production")


def test_production_cookies_are_secure(production_env: pytest.MonkeyPatch) -> None:
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
    from vaulta.services.unit_of_work import write_transaction

    with sql_statements() as statements, write_transaction() as s:
        s.execute(sa.text("SELECT 1"))
    assert "BEGIN IMMEDIATE" in statements


def test_the_backdating_window_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert create_app("testing").config["LEDGER_BACKDATE_DAYS"] == 5
    monkeypatch.setenv("LEDGER_BACKDATE_DAYS", "2")
    assert create_app("testing").config["LEDGER_BACKDATE_DAYS"] == 2
    monkeypatch.setenv("LEDGER_BACKDATE_DAYS", "-1")
    with pytest.raises(ConfigError, match="LEDGER_BACKDATE_DAYS"):
        create_app("testing")


def test_the_fx_quote_retention_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert create_app("testing").config["FX_QUOTE_RETENTION_HOURS"] == 24
    monkeypatch.setenv("FX_QUOTE_RETENTION_HOURS", "6")
    assert create_app("testing").config["FX_QUOTE_RETENTION_HOURS"] == 6
    monkeypatch.setenv("FX_QUOTE_RETENTION_HOURS", "0")
    with pytest.raises(ConfigError, match="FX_QUOTE_RETENTION_HOURS"):
        create_app("testing")
