"""Alembic environment for VAULTA (run by ``flask db …``, pytest-alembic and the CLI).

- Metadata comes from ``vaulta.models`` (importing it registers every table).
- SQLite: batch mode, foreign keys off around the run (batch operations rebuild tables
  that others point to) and ``PRAGMA foreign_key_check`` before each revision commits.
- Each revision runs in its own transaction; autogenerate with nothing to do writes no file.
- Offline (``--sql``) mode needs only a URL: nothing here reflects or queries the database.
- PostgreSQL: each revision's transaction starts with ``SET LOCAL lock_timeout`` and
  ``statement_timeout`` (MIGRATION_LOCK_TIMEOUT, default 5s; MIGRATION_STATEMENT_TIMEOUT,
  default 60s; 0 = no limit), so a migration queued behind a long lock fails fast instead of
  blocking every query behind it. ``--sql`` output starts with the same settings.
"""

from __future__ import annotations

import logging
import os
import re
from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from alembic import context
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from vaulta.database import configure_engine
from vaulta.models import Base
from vaulta.models.base import UTCDateTime

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")
target_metadata = Base.metadata
TIMEOUTS = (
    ("lock_timeout", "MIGRATION_LOCK_TIMEOUT", "5s"),
    ("statement_timeout", "MIGRATION_STATEMENT_TIMEOUT", "60s"),
)
TIMEOUT_VALUE = re.compile(r"^[0-9]+ ?(us|ms|s|min|h|d)?$")


def _timeout_settings() -> list[tuple[str, str]]:
    """(setting, value) pairs for PostgreSQL, from the environment."""
    settings = []
    for setting, variable, default in TIMEOUTS:
        value = os.environ.get(variable, default).strip()
        if not TIMEOUT_VALUE.match(value):
            raise RuntimeError(f"{variable}={value!r}: use e.g. 5s, 500ms, 2min or 0 (no limit)")
        settings.append((setting, value))
    return settings


def _set_local_timeouts(connection: Connection) -> None:
    """On PostgreSQL, limit this transaction's lock waits and statements (``begin`` event)."""
    for setting, value in _timeout_settings():
        connection.exec_driver_sql(f"SET LOCAL {setting} = '{value}'")


def _flask_migrate_args() -> dict[str, Any]:
    try:
        from flask import current_app

        return dict(current_app.extensions["migrate"].configure_args)
    except (RuntimeError, KeyError):  # not inside a Flask app (pytest-alembic, scripts)
        return {}


def _app_engine() -> Engine:
    from flask import current_app

    return current_app.extensions["migrate"].db.engine


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    return _app_engine().url.render_as_string(hide_password=False)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write VAULTA's UTC timestamp type as the plain SQLAlchemy type it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def process_revision_directives(ctx: Any, revision: Any, directives: list[Any]) -> None:
    """An autogenerate run that finds no change writes no revision file."""
    cmd_opts = getattr(config, "cmd_opts", None)
    if cmd_opts is not None and getattr(cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected; no revision written.")


def _configure_args(dialect_name: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "compare_type": True,
        "compare_server_default": True,
        "render_item": render_item,
        "process_revision_directives": process_revision_directives,
        "transaction_per_migration": True,
    }
    args.update(
        {k: v for k, v in _flask_migrate_args().items() if k != "process_revision_directives"}
    )
    args["render_as_batch"] = dialect_name == "sqlite"
    return args


def run_migrations_offline() -> None:
    url = _url()
    dialect_name = sa.engine.make_url(url).get_backend_name()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_args(dialect_name),
    )
    with context.begin_transaction():
        if dialect_name == "postgresql":
            for setting, value in _timeout_settings():
                context.execute(f"SET {setting} = '{value}'")
        context.run_migrations()


def _foreign_key_check(ctx: Any, **_: Any) -> None:
    """Refuse to commit a revision that leaves a dangling foreign key (SQLite)."""
    problems = ctx.connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise RuntimeError(f"foreign key check failed after migration: {problems[:5]}")


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """Switch SQLite foreign keys on the raw connection (no effect inside a transaction).

    A connection handed in mid-transaction (by a test harness) keeps its setting.
    """
    raw = connection.connection.driver_connection
    if not raw.in_transaction:
        raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def _run(connection: Connection, *, owned: bool) -> None:
    """Run the migrations on ``connection``; commit only a connection this file opened."""
    sqlite = connection.dialect.name == "sqlite"
    args = _configure_args(connection.dialect.name)
    if sqlite:
        # Batch operations rebuild tables that others point to: foreign keys go off for the
        # run, and PRAGMA foreign_key_check guards each revision before it commits.
        _sqlite_foreign_keys(connection, on=False)
        args["on_version_apply"] = _foreign_key_check
        args["transactional_ddl"] = True
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        event.listen(connection, "begin", _set_local_timeouts)
        if connection.in_transaction():  # handed in mid-transaction: that one counts too
            _set_local_timeouts(connection)
    try:
        context.configure(connection=connection, target_metadata=target_metadata, **args)
        with context.begin_transaction():
            context.run_migrations()
        if owned and connection.in_transaction():
            connection.commit()
    finally:
        if owned and connection.in_transaction():
            connection.rollback()
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)
        if postgresql:
            event.remove(connection, "begin", _set_local_timeouts)


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = _app_engine()
    if isinstance(connectable, Engine):
        configure_engine(connectable)
        with connectable.connect() as connection:
            _run(connection, owned=True)
    elif isinstance(connectable, Connection):
        _run(connectable, owned=False)
    else:  # a test harness's wrapper around a connection it manages
        with connectable.connect() as connection:
            _run(connection, owned=False)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
