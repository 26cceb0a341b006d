"""Outages answer 503 with ``Retry-After``, and the app recovers by itself.

When the database or the Redis that keeps the rate-limit counts cannot serve right now
(connection refused or dropped, the pool exhausted, the server shutting down, a lock or
statement timeout, a deadlock or serialization failure, SQLite busy past its
``busy_timeout`` or unable to open its file), the request gets **503** with
``Retry-After: UNAVAILABLE_RETRY_AFTER_SECONDS``:

- a page: ``errors/unavailable.html``, a layout of its own that reads nothing from the
  database (no user, no navigation); a GET reloads itself after the delay;
- an htmx request: the message in the page's message area (``errors/_error.html``);
- the API: ``{"error": {"code": "unavailable", "message": …}}``.

Errors the database reports about the request itself (SQL errors, "no such table",
constraint violations) are bugs: they still get 500 and a traceback in the log. An
outage logs one warning line per refused request, without SQL parameters (the user
loader's parameter is a session token).

After the handler, Flask-Login may be asked for the user again (the security headers,
``vaulta/security/headers.py``): ``during_outage()`` lets the user loader answer "nobody"
without a query.

Recovery needs no restart: the engine pings a pooled connection before each use
(``pool_pre_ping``, vaulta/extensions.py) and replaces it when the server dropped it, and
a disconnect seen during a statement makes SQLAlchemy discard every older connection of
the pool. The first request after the database is back gets a fresh connection.
"""

from __future__ import annotations

import logging

import redis.exceptions
from flask import Flask, current_app, g, render_template, request
from sqlalchemy import exc
from werkzeug.wrappers import Response

from vaulta.error_handlers import error_response, wants_json
from vaulta.web import is_htmx

log = logging.getLogger(__name__)

_FLAG = "vaulta_outage"
PAGE_MESSAGE = "VAULTA cannot reach a service it depends on right now. Try again in a moment."
API_MESSAGE = (
    "The service is temporarily unavailable: retry after the seconds in Retry-After. "
    "Retry POST /payments with the same Idempotency-Key: a request that was in fact "
    "completed is then answered, not repeated."
)
# PostgreSQL SQLSTATE classes (and codes) of a server that cannot serve right now:
# connection exception, insufficient resources, operator intervention (shutdown, query
# cancelled by statement_timeout), system error (I/O), transaction rollback (deadlock,
# serialization failure), lock_not_available (lock_timeout).
PG_UNAVAILABLE = ("08", "53", "57", "58", "40", "55P03")
# SQLite primary result codes of the same kind: BUSY, LOCKED, NOMEM, READONLY, IOERR,
# FULL, CANTOPEN, PROTOCOL. SQLITE_ERROR (SQL errors, missing tables) is a bug.
SQLITE_UNAVAILABLE = frozenset({5, 6, 7, 8, 10, 13, 14, 15})
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


def database_unavailable(err: BaseException) -> bool:
    """True when ``err`` means the database cannot serve right now (503), False for a bug."""
    if isinstance(err, exc.DisconnectionError | exc.TimeoutError):
        return True  # a dead connection the pool could not replace; the pool is exhausted
    if not isinstance(err, exc.DBAPIError):
        return False
    if err.connection_invalidated:
        return True  # SQLAlchemy recognised a disconnect
    if not isinstance(err, exc.OperationalError):
        return False
    sqlite_code = getattr(err.orig, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in SQLITE_UNAVAILABLE
    sqlstate = getattr(err.orig, "sqlstate", None)
    if sqlstate is None:
        return True  # no server answer at all: refused, unreachable, closed
    return str(sqlstate).startswith(PG_UNAVAILABLE)


def during_outage() -> bool:
    """True once this request has been answered with 503 for an outage."""
    return bool(g.get(_FLAG, False))


def _describe(err: BaseException) -> str:
    """One line about ``err`` for the log: its class and the driver's first line (never
    the SQL or its parameters)."""
    orig = getattr(err, "orig", None) or err
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    first_line = (str(orig).strip().splitlines() or [""])[0][:200]
    kind = type(orig).__name__ + (f" {code}" if code else "")
    return f"{kind}: {first_line}"


def unavailable_response(err: BaseException, service: str) -> Response:
    """The 503 for an outage of ``service`` ("database", "redis"), as page, partial or JSON."""
    g.setdefault(_FLAG, True)
    log.warning(
        "503 %s %s: %s unavailable (%s)", request.method, request.path, service, _describe(err)
    )
    seconds = int(current_app.config["UNAVAILABLE_RETRY_AFTER_SECONDS"])
    if wants_json() or is_htmx():
        message = API_MESSAGE if wants_json() else PAGE_MESSAGE
        response = error_response(503, message, "unavailable")
    else:
        html = render_template(
            "errors/unavailable.html",
            message=PAGE_MESSAGE,
            seconds=seconds,
            reload=request.method == "GET",  # reloading a POST would send it again
        )
        response = Response(html, 503, mimetype="text/html")
        response.vary.add("HX-Request")
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_error(err: exc.SQLAlchemyError) -> Response:
    if not database_unavailable(err):
        raise err  # a bug: Flask's 500 handling, exactly as without this handler
    return unavailable_response(err, "database")


def _redis_error(err: redis.exceptions.RedisError) -> Response:
    return unavailable_response(err, "redis")


def register(app: Flask) -> None:
    for error in (exc.DBAPIError, exc.DisconnectionError, exc.TimeoutError):
        app.register_error_handler(error, _database_error)
    for redis_error in REDIS_ERRORS:
        app.register_error_handler(redis_error, _redis_error)
