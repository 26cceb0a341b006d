"""Configuration classes: defaults live here, the environment is read when an app is created.

``DATABASE_URL`` is honoured by every class. ``postgres://`` and ``postgresql://`` URLs are
rewritten to use the psycopg 3 driver. Production refuses to start without a real
``SECRET_KEY`` (at least 32 characters, not a well-known value; the same for every
``SECRET_KEY_FALLBACKS`` entry), without a ``DATABASE_URL``, and with in-memory rate-limit
counts unless ``RATELIMIT_SINGLE_PROCESS`` says one single worker process serves.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-insecure-key"  # noqa: S105 - development-only placeholder
TEST_SECRET_KEY = "testing-secret-key"  # noqa: S105 - tests only
# Production keys: at least this long, not a well-known value, not a pattern repeated.
SECRET_KEY_MIN_LENGTH = 32
# Well-known values (placeholders from docs, tutorials and frameworks), compared in lower
# case without separators, so "Change-Me" and "CHANGE_ME" count too.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "",
        "dev",
        "devkey",
        "development",
        "test",
        "testing",
        "secret",
        "secretkey",
        "mysecret",
        "mysecretkey",
        "yoursecretkey",
        "yoursecretkeyhere",
        "supersecret",
        "supersecretkey",
        "topsecret",
        "password",
        "changeme",
        "changethis",
        "changethiskey",
        "default",
        "insecure",
        "flask",
        "flasksecretkey",
        "vaulta",
        "youwillneverguess",
        "notasecret",
        "pleasechangeme",
        "replaceme",
        DEV_SECRET_KEY,
        TEST_SECRET_KEY,
    }
)
KNOWN_SECRET_PREFIXES = ("django-insecure-", "dev-", "test-", "change-me", "changeme")
MAKE_A_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'  # noqa: S105
# Integer settings that may be overridden from the environment.
INT_SETTINGS = (
    "LEDGER_MAX_AMOUNT_MINOR",
    "LEDGER_BACKDATE_DAYS",
    "UNAVAILABLE_RETRY_AFTER_SECONDS",
    "ARGON2_TIME_COST",
    "ARGON2_MEMORY_COST",
    "ARGON2_PARALLELISM",
    "SESSION_IDLE_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
    "DEVICE_COOKIE_DAYS",
    "SMTP_PORT",
    "OTP_TTL_SECONDS",
    "OTP_MAX_ATTEMPTS",
    "PAYMENT_EXPIRY_DAYS",
    "CHANGE_REQUEST_TTL_HOURS",
    "API_IDEMPOTENCY_RETENTION_HOURS",
    "APPROVAL_STEP_UP_THRESHOLD_MINOR",
    "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST",
    "PROXY_FIX_X_PORT",
    "PROXY_FIX_X_PREFIX",
    "MAINTENANCE_RETRY_AFTER_SECONDS",
    "UPGRADE_DRAIN_SECONDS",
    "MAX_CONTENT_LENGTH",
    "JSON_MAX_DEPTH",
    "WEBHOOK_RETRY_HOURS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "APPROVAL_REMINDER_HOURS",
    "STATEMENT_BATCH_SIZE",
    "EXPORT_INLINE_MAX_ROWS",
    "EXPORT_RETENTION_HOURS",
    "PAYMENT_FILE_MAX_BYTES",
    "PAYMENT_FILE_MAX_LINES",
    "STANDING_ORDER_CATCH_UP_DAYS",
    "FX_QUOTE_SECONDS",
    "FX_SPREAD_BPS",
    "FX_QUOTE_RETENTION_HOURS",
)
# When the database is not at the newest revision (vaulta/ops/startup.py): "refuse" to
# serve, show a "banner" on every page, or "off".
SCHEMA_CHECK_MODES = ("refuse", "banner", "off")
# Values of a yes/no setting from the environment that mean yes.
TRUE_VALUES = ("1", "true", "yes", "on")
# Text settings that may be overridden from the environment.
STR_SETTINGS = (
    "TASK_QUEUE_URL",
    "TASK_QUEUE_SQLITE_PATH",
    "WEBHOOK_SECRETS_KEY",
    "MAIL_BACKEND",
    "MAIL_FROM",
    "MAIL_OUTBOX_DIR",
    "SMTP_HOST",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "BANK_NAME",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "METRICS_TOKEN",
    "METRICS_ALLOWED_NETWORKS",
    "EXPORT_DIR",
)

# Security text settings that may be overridden from the environment (docs/security.md).
SECURITY_STR_SETTINGS = (
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_SINGLE_PROCESS",
    "RATELIMIT_LOGIN",
    "RATELIMIT_LOGIN_ACCOUNT",
    "RATELIMIT_LOGIN_DEVICE",
    "RATELIMIT_PASSCODE",
    "RATELIMIT_PAYMENT",
    "RATELIMIT_ACCOUNT_LOOKUP",
    "RATELIMIT_API",
    "RATELIMIT_API_AUTH_FAILURES",
    "CONTENT_SECURITY_POLICY",
    "STRICT_TRANSPORT_SECURITY",
)


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


def _normalised(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalnum())


_KNOWN_NORMALISED = frozenset(map(_normalised, KNOWN_DEFAULT_SECRETS))


def secret_key_problem(key: object) -> str | None:
    """Why ``key`` is unfit to sign production sessions, or None when it is fit."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else str(key or "")
    if _normalised(text) in _KNOWN_NORMALISED:
        return "is missing or a well-known value"
    if text.lower().startswith(KNOWN_SECRET_PREFIXES):
        return "starts like a well-known placeholder"
    if len(text) < SECRET_KEY_MIN_LENGTH:
        return f"is shorter than {SECRET_KEY_MIN_LENGTH} characters"
    for period in range(1, len(text) // 2 + 1):  # "xxxx…", "changemechangeme…"
        if text[period:] == text[:-period]:
            return "repeats a pattern"
    return None


def memory_rate_limits(config: dict[str, Any]) -> bool:
    """True when the rate-limit counts live in this process's memory."""
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    return uri.startswith("memory://") and bool(config.get("RATELIMIT_ENABLED", True))


def single_process_declared(config: dict[str, Any]) -> bool:
    """RATELIMIT_SINGLE_PROCESS: the operator runs one single worker process."""
    return str(config.get("RATELIMIT_SINGLE_PROCESS") or "").strip().lower() in TRUE_VALUES


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
    # When the database or Redis cannot serve, requests get 503 with this Retry-After
    # (vaulta/outages.py).
    UNAVAILABLE_RETRY_AFTER_SECONDS = 10
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Sessions end after 30 minutes without a request or 12 hours after sign-in
    # (vaulta/security/session_timeouts.py); no remember-me cookie is ever set.
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
    # Production refuses memory:// unless this says one single worker process serves
    # (with N workers, every worker would count on its own: N times every limit).
    RATELIMIT_SINGLE_PROCESS = False
    RATELIMIT_LOGIN = "10/minute"  # sign-in POSTs per client address
    RATELIMIT_LOGIN_ACCOUNT = "5/minute"  # failed sign-ins per email, from unknown devices
    RATELIMIT_LOGIN_DEVICE = "5/minute"  # failed sign-ins per device cookie (known device)
    # A browser's device cookie (vaulta/security/device_cookies.py) is honoured this long.
    DEVICE_COOKIE_DAYS = 180
    RATELIMIT_PASSCODE = "5/minute"  # one-time passcode checks per user
    RATELIMIT_PAYMENT = "20/minute"  # payment requests per user
    RATELIMIT_ACCOUNT_LOOKUP = "30/minute"  # payment form's live account-number checks per user
    RATELIMIT_API = "120/minute"  # JSON API calls per authenticated key
    RATELIMIT_API_AUTH_FAILURES = "20/minute"  # JSON API calls refused 401, per client address
    PAGE_SIZE = 25
    # The bank's name at the head of PDF statements.
    BANK_NAME = "VAULTA Bank"
    # Largest single ledger posting, in minor units of any currency.
    LEDGER_MAX_AMOUNT_MINOR = 10_000_000_000
    # Staff deposits and withdrawals may carry a value date up to this many days before
    # today (UTC), never after it (vaulta/services/ledger/value_dates.py).
    LEDGER_BACKDATE_DAYS = 5
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
    # Change requests not decided within this many hours expire (vaulta/services/changes).
    CHANGE_REQUEST_TTL_HOURS = 72
    # FX (vaulta/services/ledger/fx/): how long a customer's quote may be confirmed, and the
    # bank's spread in basis points (1/100 of a percent) taken off the rate in force.
    FX_QUOTE_SECONDS = 30
    FX_SPREAD_BPS = 50
    # Expired FX quotes nothing references are purged this long after their expiry.
    FX_QUOTE_RETENTION_HOURS = 24
    # Stored API responses to Idempotency-Keys are kept at least this long (purge command).
    API_IDEMPOTENCY_RETENTION_HOURS = 24
    # Monthly statements by the scheduler: accounts per queued task (vaulta/ops/statements.py).
    STATEMENT_BATCH_SIZE = 100
    # Exports (transaction search, audit log) with more rows than this are written by a
    # background job to EXPORT_DIR (default <instance>/exports) and kept for
    # EXPORT_RETENTION_HOURS (vaulta/exports/).
    EXPORT_INLINE_MAX_ROWS = 10_000
    EXPORT_RETENTION_HOURS = 24
    EXPORT_DIR: str | None = None
    # Approving a payment of at least this many minor units needs a fresh passcode.
    APPROVAL_STEP_UP_THRESHOLD_MINOR = 1_000_000
    # Trusted reverse proxies in front of the app, per X-Forwarded-* header (0 = ignore it).
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    PROXY_FIX_X_PORT = 0
    PROXY_FIX_X_PREFIX = 0
    SCHEMA_CHECK = "banner"
    # Maintenance mode (docs/deploy.md): Retry-After of the 503s while it is on and its end
    # is unknown; how long upgrade-safely, restore and `maintenance on` wait for write
    # transactions in progress to finish before giving up (nothing changed then).
    MAINTENANCE_RETRY_AFTER_SECONDS = 120
    UPGRADE_DRAIN_SECONDS = 30
    # Request bodies larger than this many bytes answer 413 (Flask reads the setting);
    # JSON nested deeper than JSON_MAX_DEPTH answers 400 (vaulta/security/input.py).
    MAX_CONTENT_LENGTH = 1024 * 1024
    JSON_MAX_DEPTH = 32
    # Payment files (docs/payment-files.md): at most this many bytes and payments per file.
    # The preview's confirmation carries the file signed and compressed in a form field, so
    # keep PAYMENT_FILE_MAX_BYTES well under MAX_CONTENT_LENGTH.
    PAYMENT_FILE_MAX_BYTES = 256 * 1024
    PAYMENT_FILE_MAX_LINES = 500
    # Webhooks (docs/security.md "Webhooks"): deliveries are retried this long, each POST
    # waits this long; an endpoint failing for WEBHOOK_RETRY_HOURS is disabled. URLs that
    # reach loopback, private or link-local addresses are allowed only where
    # WEBHOOK_ALLOW_PRIVATE_URLS is on (development, testing). Secrets are encrypted with
    # WEBHOOK_SECRETS_KEY, or SECRET_KEY when it is unset.
    WEBHOOK_RETRY_HOURS = 72
    WEBHOOK_TIMEOUT_SECONDS = 10
    WEBHOOK_ALLOW_PRIVATE_URLS = True
    WEBHOOK_SECRETS_KEY: str | None = None
    # The task queue (vaulta/ops/queue.py, docs/deploy.md "Background jobs"): Huey on Redis
    # when TASK_QUEUE_URL is redis://…, else SQLite in <instance>/tasks.db (or this file).
    TASK_QUEUE_URL: str | None = None
    TASK_QUEUE_SQLITE_PATH: str | None = None
    TASK_QUEUE_IMMEDIATE = False
    # Logs (vaulta/logs.py): "json" lines or plain "text"; every request has an id.
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    # /metrics (vaulta/ops/metrics.py, docs/security.md "Metrics"): a bearer token and/or
    # comma-separated networks allowed to scrape; with neither, /metrics is 404.
    METRICS_TOKEN: str | None = None
    METRICS_ALLOWED_NETWORKS: str | None = None
    # Approvers are mailed once about a payment waiting this long for a decision.
    APPROVAL_REMINDER_HOURS = 24
    # Standing orders (vaulta/services/standing_orders): a due date missed (no worker ran)
    # by more than this many days is recorded as skipped instead of paid late.
    STANDING_ORDER_CATCH_UP_DAYS = 3

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
    RATELIMIT_LOGIN_DEVICE = "10000/minute"
    RATELIMIT_PASSCODE = "10000/minute"
    RATELIMIT_PAYMENT = "10000/minute"
    RATELIMIT_ACCOUNT_LOOKUP = "10000/minute"
    RATELIMIT_API = "10000/minute"
    RATELIMIT_API_AUTH_FAILURES = "10000/minute"
    # Background tasks run at once, in the caller (Huey's immediate mode): no sleeping.
    TASK_QUEUE_IMMEDIATE = True


class ProductionConfig(Config):
    NAME = "production"
    SECRET_KEY = None
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
    MAIL_BACKEND = "smtp"
    WEBHOOK_ALLOW_PRIVATE_URLS = False
    SCHEMA_CHECK = "refuse"
    LOG_FORMAT = "json"

    @classmethod
    def validate(cls, config: dict[str, Any]) -> None:
        problem = secret_key_problem(config.get("SECRET_KEY"))
        if problem:
            raise ConfigError(
                f"SECRET_KEY {problem}: anyone who knows or guesses it can forge sessions. "
                f"Set SECRET_KEY to a long random value, made with: {MAKE_A_SECRET_KEY}"
            )
        for index, fallback in enumerate(config.get("SECRET_KEY_FALLBACKS") or ()):
            problem = secret_key_problem(fallback)
            if problem:
                raise ConfigError(
                    f"SECRET_KEY_FALLBACKS entry {index + 1} {problem}: sessions signed with "
                    "it are still accepted. Remove it, or replace it with a value made with: "
                    + MAKE_A_SECRET_KEY
                )
        token = config.get("METRICS_TOKEN")
        if token and len(token) < SECRET_KEY_MIN_LENGTH:
            raise ConfigError(
                f"METRICS_TOKEN is shorter than {SECRET_KEY_MIN_LENGTH} characters: make one "
                f"with: {MAKE_A_SECRET_KEY}"
            )
        if not os.environ.get("DATABASE_URL") and not cls.SQLALCHEMY_DATABASE_URI:
            raise ConfigError("DATABASE_URL is not set: production needs a PostgreSQL URL.")
        if memory_rate_limits(config) and not single_process_declared(config):
            raise ConfigError(
                "RATELIMIT_STORAGE_URI is memory://: each worker process would keep its own "
                "counts, so N gunicorn workers (or instances) allow N times every limit "
                "(4 workers turn 5 sign-ins a minute into 20). Set RATELIMIT_STORAGE_URI to "
                "a Redis URL shared by every worker (redis://host:6379/0), or, if exactly one "
                "worker process serves (WEB_CONCURRENCY=1), set RATELIMIT_SINGLE_PROCESS=1."
            )


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
    if os.environ.get("SECRET_KEY_FALLBACKS"):  # comma-separated, during a key rotation
        fallbacks = os.environ["SECRET_KEY_FALLBACKS"].split(",")
        config["SECRET_KEY_FALLBACKS"] = [key.strip() for key in fallbacks if key.strip()]
    if os.environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(instance_path) / "vaulta.db")
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    for key in INT_SETTINGS:
        if os.environ.get(key):
            config[key] = int(os.environ[key])
    if int(config.get("LEDGER_BACKDATE_DAYS", 0)) < 0:
        raise ConfigError("LEDGER_BACKDATE_DAYS must be 0 or more.")
    if int(config.get("FX_QUOTE_RETENTION_HOURS", 1)) < 1:
        raise ConfigError("FX_QUOTE_RETENTION_HOURS must be 1 or more.")
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
    if os.environ.get("WEBHOOK_ALLOW_PRIVATE_URLS"):
        allowed = os.environ["WEBHOOK_ALLOW_PRIVATE_URLS"].strip().lower()
        config["WEBHOOK_ALLOW_PRIVATE_URLS"] = allowed in TRUE_VALUES
    if os.environ.get("SMTP_STARTTLS"):
        config["SMTP_STARTTLS"] = os.environ["SMTP_STARTTLS"].lower() not in ("0", "false", "no")
    if not config.get("MAIL_OUTBOX_DIR"):
        config["MAIL_OUTBOX_DIR"] = str(Path(instance_path) / "outbox")
    if config.get("LOG_FORMAT") not in (None, "json", "text"):
        raise ConfigError("LOG_FORMAT must be json or text.")
