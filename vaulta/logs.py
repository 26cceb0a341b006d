"""Logging: JSON lines (python-json-logger) when ``LOG_FORMAT=json`` (production's default),
plain text otherwise, and a request id for every request.

The request id is the incoming ``X-Request-ID`` when it is sane (1-128 characters of
letters, digits and ``-_.:``), else a new random one; it is echoed in the response's
``X-Request-ID`` header, added to every log record made while the request runs
(``request_id``), and to the details of every audit event the request records. The web
layer sets it in a context variable (``vaulta.services.audit.recording.request_id``) for the
length of the request; services read the variable, never the request (docs/architecture.md
"Request ids").
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import Token

from flask import Flask, g, request, request_started
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from werkzeug.wrappers import Response

from vaulta.services.audit.recording import request_id

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
LOG_FORMATS = ("json", "text")
_RESET = "_vaulta_request_id_reset"
_HANDLER_NAME = "vaulta-json"


# /healthz's schema check asks Alembic, which says "Context impl …" at INFO on every call:
# dropped inside requests (a load balancer polls every few seconds), kept for `flask db`.
CHATTY_IN_REQUESTS = frozenset({"alembic.runtime.migration"})


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (None outside a request) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return not (
            record.request_id is not None
            and record.name in CHATTY_IN_REQUESTS
            and record.levelno < logging.WARNING
        )


def json_handler(stream: object = None) -> logging.Handler:
    """A handler writing one JSON object per line: time, level, logger, message, request id
    and any ``extra`` fields."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}{request_id}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    return handler


def configure(app: Flask) -> None:
    """Install the JSON handler on the root logger once (LOG_FORMAT=json), and request ids."""
    if app.config.get("LOG_FORMAT") == "json":
        root = logging.getLogger()
        if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
            root.addHandler(json_handler())
        root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
        # Flask's own plain handler on the app's logger ("vaulta", the parent of every
        # module's logger here) would print each line a second time, as text.
        logging.getLogger(app.name).removeHandler(default_handler)
    # Flask's request_started signal comes before every before_request hook.
    request_started.connect(_take_request_id, app)
    app.after_request(_echo_request_id)
    app.teardown_request(_forget_request_id)


def incoming_or_new(value: str | None) -> str:
    """The client's id when it is sane, else a new one (32 hex digits)."""
    if value and SANE_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def _take_request_id(_sender: object, **_extra: object) -> None:
    if _RESET not in g:
        g.setdefault(_RESET, request_id.set(incoming_or_new(request.headers.get(HEADER))))


def _echo_request_id(response: Response) -> Response:
    current = request_id.get()
    if current:
        response.headers[HEADER] = current
    return response


def _forget_request_id(_error: BaseException | None) -> None:
    token: Token[str | None] | None = g.pop(_RESET, None)
    if token is not None:
        request_id.reset(token)
