"""What the app does at start-up about the schema (``SCHEMA_CHECK``).

- ``refuse`` (production): ``create_app`` raises SchemaOutdated when the database is behind
  the newest revision, so gunicorn's workers fail to boot with a message naming
  ``flask db upgrade``. Apps loaded by the ``flask`` command line (``flask db upgrade``,
  ``flask vaulta backup`` …) are never refused: there a click context is active. If such an
  app serves anyway (``flask run``), or the database was unreachable at start, every request
  gets 503 until the schema is confirmed at the newest revision. A database *newer* than the
  code (upgraded by the next release, which is being rolled out) is served, with a warning.
- ``banner`` (development): every full page shows a banner while revisions are pending.
- ``off`` (tests).
"""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from vaulta.config import SCHEMA_CHECK_MODES, ConfigError
from vaulta.extensions import db
from vaulta.ops.schema import SchemaOutdated, SchemaStatus, schema_status
from vaulta.outages import database_unavailable

log = logging.getLogger(__name__)
CONFIRMED_KEY = "vaulta_schema_confirmed"
UNGUARDED_BLUEPRINTS = frozenset({"health", None})  # /healthz reports for itself; static


def migrations_directory() -> str:
    return str(current_app.extensions["migrate"].directory)


def init_app(app: Flask) -> None:
    mode = app.config.get("SCHEMA_CHECK", "off")
    if mode not in SCHEMA_CHECK_MODES:
        raise ConfigError(f"SCHEMA_CHECK must be one of {', '.join(SCHEMA_CHECK_MODES)}.")
    if mode == "banner":  # other modes leave the layout's banner out (no include per page)
        app.context_processor(lambda: {"schema_banner_status": _banner_status})
    for limiter in app.extensions.get("limiter", ()):  # load balancers poll /healthz freely
        limiter.exempt(app.blueprints["health"])
    if mode != "refuse":
        return
    app.extensions[CONFIRMED_KEY] = False
    if not started_by_flask_cli():
        _refuse_unless_at_head(app)
    app.before_request(_guard)


def started_by_flask_cli() -> bool:
    """True while a click command runs (the ``flask`` CLI loads the app inside one)."""
    return click.get_current_context(silent=True) is not None


def _refuse_unless_at_head(app: Flask) -> None:
    with app.app_context():
        try:
            status = schema_status(db.engine, migrations_directory())
        except SQLAlchemyError as err:
            log.warning("schema check deferred, database unreachable: %s", type(err).__name__)
            return
        finally:
            db.engine.dispose()  # no connection inherited by forked workers
    if not status.can_serve:
        error = SchemaOutdated(status)
        log.critical("%s", error)
        raise error
    if status.ahead_of_code:
        log.warning("serving a database upgraded by newer code: %s", status.describe())
    app.extensions[CONFIRMED_KEY] = True


def _guard() -> tuple[str, int, dict[str, str]] | None:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.extensions.get(CONFIRMED_KEY) or request.blueprint in UNGUARDED_BLUEPRINTS:
        return None
    try:
        status = schema_status(db.engine, migrations_directory())
    except SQLAlchemyError as err:
        if database_unavailable(err):
            raise  # the outage page with Retry-After (vaulta/outages.py)
        return "Database unavailable.\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
    if not status.can_serve:
        return f"{SchemaOutdated(status)}\n", 503, {"Content-Type": "text/plain; charset=utf-8"}
    app.extensions[CONFIRMED_KEY] = True
    return None


def _banner_status() -> SchemaStatus | None:
    """The status to show in the development banner, or None when there is nothing to say."""
    try:
        status = schema_status(db.engine, migrations_directory())
    except SQLAlchemyError:
        return None
    return None if status.can_serve else status
