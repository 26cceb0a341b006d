"""``init_security(app)``: wires the protections of ``vaulta.security`` into an app (rate limits
and their 429 answer, session timeouts, response headers, input checks)."""

from __future__ import annotations

from flask import Flask
from flask_limiter.errors import RateLimitExceeded
from werkzeug.wrappers import Response

from vaulta.error_handlers import error_response
from vaulta.extensions import limiter
from vaulta.security import headers, input, session_timeouts

TOO_MANY_MESSAGE = "Too many attempts in a short time. Wait {seconds} seconds, then try again."


def _too_many_requests(err: RateLimitExceeded) -> Response:
    seconds = int(err.limit.limit.get_expiry())
    response = error_response(429, TOO_MANY_MESSAGE.format(seconds=seconds), "rate_limited")
    response.headers["Retry-After"] = str(seconds)
    if response.mimetype == "text/plain":  # error_response builds a bare werkzeug Response
        response.mimetype = "text/html"
    return response


def init_security(app: Flask) -> None:
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    session_timeouts.init_app(app)
    headers.init_app(app)
    input.init_app(app)  # control characters, JSON depth: 400; MAX_CONTENT_LENGTH: 413
