"""Hostile input gets a clear 4xx before any view sees it (docs/security.md).

One ``before_request`` check inspects, once per request:

- the path, every query-string key and value, and every form key and value (urlencoded
  and multipart, file field names and file names too);
- JSON bodies: nested no deeper than JSON_MAX_DEPTH (vaulta/jsonlimits.py, checked before
  parsing), and every key and string value at any depth.

A control character answers **400** (``control_character``) naming where it was: NUL,
which PostgreSQL cannot store, and the rest of C0, DEL and C1. Values may hold tab, line
feed and carriage return (multi-line fields, pasted text); names and the path may not.
A too-deep JSON body answers 400 (``json_too_deep``). A body larger than
MAX_CONTENT_LENGTH answers **413** (``too_large``). Each goes through
vaulta/error_handlers.py ``error_response``: a page, an htmx partial, or JSON under /api/.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from vaulta.error_handlers import error_response
from vaulta.jsonlimits import max_depth, nesting_exceeds
from vaulta.text import CONTROL_CHARACTERS, describe

# Names (keys, the path) hold no control character at all, not even tab or a line break.
CONTROL_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SHOWN_NAME_MAX = 60


class InputProblem(Exception):
    def __init__(self, message: str, code: str = "control_character") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _shown(name: str) -> str:
    return name if len(name) <= _SHOWN_NAME_MAX else name[: _SHOWN_NAME_MAX - 1] + "…"


def _refuse(char: str, where: str) -> InputProblem:
    return InputProblem(
        f"{where} contains a control character ({describe(char)}), which cannot be "
        "accepted. Remove it and try again."
    )


def _check_pairs(pairs: Iterable[tuple[str, str]], kind: str) -> None:
    for name, value in pairs:
        bad_name = CONTROL_IN_NAME.search(name)
        if bad_name:
            raise _refuse(bad_name.group(), f"A {kind} name")
        bad_value = CONTROL_CHARACTERS.search(value)
        if bad_value:
            raise _refuse(bad_value.group(), f"The {kind} “{_shown(name)}”")


def _check_json_value(body: Any) -> None:
    """Every key and string of a parsed body, at any depth, without recursion."""
    stack: list[tuple[Any, str]] = [(body, "")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                bad = CONTROL_IN_NAME.search(key)
                if bad:
                    raise _refuse(bad.group(), "A key in the JSON body")
                stack.append((item, f"{where}.{key}" if where else key))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
        elif isinstance(value, str):
            bad = CONTROL_CHARACTERS.search(value)
            if bad:
                place = f"The JSON value “{_shown(where)}”" if where else "The JSON body"
                raise _refuse(bad.group(), place)


def _check_json() -> None:
    if not request.get_data(cache=True):
        return
    body = request.get_json(silent=True)  # cached for the view; too deep → None
    if body is None:
        limit = max_depth()
        if nesting_exceeds(request.get_data(cache=True), limit):
            raise InputProblem(
                f"The JSON body is nested more than {limit} levels deep. Send a flatter document.",
                "json_too_deep",
            )
        return  # not JSON at all: the view says what it expects
    _check_json_value(body)


def check_request() -> Response | None:
    """The before_request check: None to go on, or the 400 answer."""
    try:
        bad_path = CONTROL_IN_NAME.search(request.path)
        if bad_path:
            raise _refuse(bad_path.group(), "The address")
        if request.args:
            _check_pairs(request.args.items(multi=True), "query parameter")
        if request.method in BODY_METHODS:
            if request.mimetype in FORM_TYPES:
                _check_pairs(request.form.items(multi=True), "field")
                for name, upload in request.files.items(multi=True):
                    _check_pairs([(name, upload.filename or "")], "file field")
            elif request.is_json:
                _check_json()
    except InputProblem as problem:
        return error_response(400, problem.message, problem.code)
    return None


def _too_large(err: RequestEntityTooLarge) -> Response:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    size = f" (at most {limit:,} bytes)" if limit else ""
    message = f"The request is too large for this server{size}. Send less data."
    return error_response(413, message, "too_large")


def init_app(app: Flask) -> None:
    app.before_request(check_request)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
