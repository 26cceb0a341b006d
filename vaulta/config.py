"""Configuration classes: defaults live here, the environment is read when an app is created.

``DATABASE_URL`` is honoured by every class. ``postgres://`` and ``postgresql://`` URLs are
rewritten to use the psycopg 3 driver. Production refuses to start without a real
``SECRET_KEY`` and a ``DATABASE_URL``.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-insecure-key"  # noqa: S105 - development-only placeholder
TEST_SECRET_KEY = "testing-secret-key"  # noqa: S105 - tests only
# Keys that must never be accepted in production.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "dev", "devkey", "secret", "changeme", "change-me", DEV_SECRET_KEY, TEST_SECRET_KEY}
)
# Integer settings that may be overridden from the environment.
INT_SETTINGS = (
    "LEDGER_MAX_AMOUNT_MINOR",
    "DATABASE_PING_AFTER_IDLE_SECONDS",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_COST",
    "ARGON2_PARALLELISM",
    "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
    "SMTP_PORT",
    "OTP_TTL_SECONDS",
    "OTP_MAX_ATTEMPTS",
    "PAYMENT_EXPIRY_DAYS",
    "API_IDEMPOTENCY_RETENTION_HOURS",
    "APPROVAL_STEP_UP_THRESHOLD_MINOR",
    "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST",
    "PROXY_FIX_X_PORT",
    "PROXY_FIX_X_PREFIX",
    "MAX_CONTENT_LENGTH",
    "JSON_MAX_DEPTH",
)
# When the database is not at the newest revision (vaulta/ops/startup.py): "refuse" to
# serve, show a "banner" on every page, or "off".
SCHEMA_CHECK_MODES = ("refuse", "banner", "off")
# Text settings that may be overridden from the environment.
STR_SETTINGS = (
    "MAIL_BACKEND",
    "MAIL_FROM",
    "MAIL_OUTBOX_DIR",
    "SMTP_HOST",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
)

# Security text settings that may be overridden from the environment (docs/security.md).
SECURITY_STR_SETTINGS = (
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_PASSCODE",
    "RATELIMIT_PAYMENT",
    "RATELIMIT_API",
    "CONTENT_SECURITY_POLICY",
    "STRICT_TRANSPORT_SECURITY",
)


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def normalise_database_url(url: str) -> str:
    """Return ``url`` with PostgreSQL URLs bound to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    """Settings shared by every environment."""

    NAME = "base"
    SECRET_KEY: str | None = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: DATABASE_URL, else instance/vaulta.db
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    # A pooled server connection unused for this many seconds is pinged before it is handed
    # out, and replaced if the server dropped it (restart, failover, idle timeout); busy
    # connections are not pinged (vaulta/database.py). 0 pings at every check-out.
    DATABASE_PING_AFTER_IDLE_SECONDS = 10
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Sessions end after 30 minutes without a request or 12 hours after sign-in
    # (vaulta/security/sessions.py); no remember-me cookie is ever set.
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # Response headers (vaulta/security/headers.py). HSTS only in production.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'; object-src 'none'"
    )
    REFERRER_POLICY = "strict-origin-when-cross-origin"
    STRICT_TRANSPORT_SECURITY: str | None = None
    # Flask-Limiter (vaulta/security/limits.py): in memory unless RATELIMIT_STORAGE_URI
    # names a shared store (redis://host:6379/0 in production, several workers share counts).
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_LOGIN = "10/minute"  # sign-in POSTs per client address
    RATELIMIT_LOGIN_ACCOUNT = "5/minute"  # failed sign-ins per email
    RATELIMIT_PASSCODE = "5/minute"  # one-time passcode checks per user
    RATELIMIT_PAYMENT = "20/minute"  # payment requests per user
    RATELIMIT_API = "120/minute"  # JSON API calls per key
    PAGE_SIZE = 25
    # Largest single ledger posting, in minor units of any currency.
    LEDGER_MAX_AMOUNT_MINOR = 10_000_000_000
    # Argon2id parameters (argon2-cffi's RFC 9106 low-memory profile).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    # Mail: "console" logs and writes each message to MAIL_OUTBOX_DIR (default
    # <instance>/outbox); "smtp" sends through SMTP_HOST (STARTTLS unless SMTP_STARTTLS=0).
    MAIL_BACKEND = "console"
    MAIL_FROM = "VAULTA <no-reply@vaulta.test>"
    MAIL_OUTBOX_DIR: str | None = None
    SMTP_HOST = "localhost"
    SMTP_PORT = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS = True
    # One-time passcodes: lifetime and wrong attempts before a code is locked.
    OTP_TTL_SECONDS = 300
    OTP_MAX_ATTEMPTS = 5
    # Payments not approved within this many days expire.
    PAYMENT_EXPIRY_DAYS = 7
    # Stored API responses to Idempotency-Keys are kept at least this long (purge command).
    API_IDEMPOTENCY_RETENTION_HOURS = 24
    # Approving a payment of at least this many minor units needs a fresh passcode.
    APPROVAL_STEP_UP_THRESHOLD_MINOR = 1_000_000
    # Trusted reverse proxies in front of the app, per X-Forwarded-* header (0 = ignore it).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    SCHEMA_CHECK = "banner"
    # Request bodies larger than this many bytes answer 413 (Flask reads the setting);
    # JSON nested deeper than JSON_MAX_DEPTH answers 400 (vaulta/security/input.py).
    MAX_CONTENT_LENGTH = 1024 * 1024
    JSON_MAX_DEPTH = 32

    @classmethod
    def validate(cls, config: dict[str, Any]) -> None:
        """Raise ConfigError when the settings are unsafe for this environment."""


class DevelopmentConfig(Config):
    NAME = "development"


class TestingConfig(Config):
    NAME = "testing"
    TESTING = True
    # Each test process keeps its console mail apart (tests may point it elsewhere).
    MAIL_OUTBOX_DIR = str(Path(tempfile.gettempdir()) / f"vaulta-test-outbox-{os.getpid()}")
    SECRET_KEY = TEST_SECRET_KEY
    SCHEMA_CHECK = "off"
    # Fast hashes in tests; still argon2id.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    # Generous limits: many tests sign in from one address; tests/security sets tight ones.
    RATELIMIT_LOGIN = "10000/minute"
    RATELIMIT_LOGIN_ACCOUNT = "10000/minute"
    RATELIMIT_PASSCODE = "10000/minute"
    RATELIMIT_PAYMENT = "10000/minute"
    RATELIMIT_API = "10000/minute"


class ProductionConfig(Config):
    NAME = "production"
    SECRET_KEY = None
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
    MAIL_BACKEND = "smtp"
    SCHEMA_CHECK = "refuse"

    @classmethod
    def validate(cls, config: dict[str, Any]) -> None:
        if (config.get("SECRET_KEY") or "") in KNOWN_DEFAULT_SECRETS:
            raise ConfigError(
                "SECRET_KEY is missing or a known default: set SECRET_KEY to a long random value."
            )
        if not os.environ.get("DATABASE_URL") and not cls.SQLALCHEMY_DATABASE_URI:
            raise ConfigError("DATABASE_URL is not set: production needs a PostgreSQL URL.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def resolve(config: str | type[Config] | None) -> type[Config]:
    """Pick a config class from a name, a class, or ``VAULTA_CONFIG`` (default development)."""
    if config is None:
        config = os.environ.get("VAULTA_CONFIG", "development")
    if isinstance(config, str):
        try:
            return CONFIGS[config]
        except KeyError:
            names = ", ".join(CONFIGS)
            raise ConfigError(f"Unknown configuration {config!r}: use one of {names}.") from None
    return config


def apply_environment(config: dict[str, Any], instance_path: str) -> None:
    """Overlay environment variables on ``config`` (called by ``create_app``)."""
    if os.environ.get("SECRET_KEY"):
        config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(instance_path) / "vaulta.db")
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    for key in INT_SETTINGS:
        if os.environ.get(key):
            config[key] = int(os.environ[key])
    for key in SECURITY_STR_SETTINGS:
        if os.environ.get(key):
            config[key] = os.environ[key]
    if os.environ.get("SCHEMA_CHECK"):
        config["SCHEMA_CHECK"] = os.environ["SCHEMA_CHECK"]
    if config.get("SCHEMA_CHECK", "off") not in SCHEMA_CHECK_MODES:
        raise ConfigError(f"SCHEMA_CHECK must be one of {', '.join(SCHEMA_CHECK_MODES)}.")
    for key in STR_SETTINGS:
        if os.environ.get(key):
            config[key] = os.environ[key]
    if os.environ.get("SMTP_STARTTLS"):
        config["SMTP_STARTTLS"] = os.environ["SMTP_STARTTLS"].lower() not in ("0", "false", "no")
    if not config.get("MAIL_OUTBOX_DIR"):
        config["MAIL_OUTBOX_DIR"] = str(Path(instance_path) / "outbox")
