"""Cross-cutting protections: response headers, session timeouts and rate limiting.

``init_security(app)`` wires them into an app; docs/security.md lists each protection, its
configuration and the test that proves it.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from flask_limiter.util import get_qualified_name
from werkzeug.wrappers import Response

from vaulta.errors import error_response
from vaulta.extensions import limiter
from vaulta.security import headers, sessions

TOO_MANY_MESSAGE = "Too many attempts in a short time. Wait {seconds} seconds, then try again."


def _too_many_requests(err: RateLimitExceeded) -> Response:
    seconds = int(err.limit.limit.get_expiry())
    response = error_response(429, TOO_MANY_MESSAGE.format(seconds=seconds), "rate_limited")
    response.headers["Retry-After"] = str(seconds)
    if response.mimetype == "text/plain":  # error_response builds a bare werkzeug Response
        response.mimetype = "text/html"
    return response


UNLIMITED_ENDPOINTS = "vaulta_unlimited_endpoints"


def unlimited_endpoints(app: Flask, lim: Limiter) -> frozenset[str]:
    """The endpoints no rate limit can apply to, derived from the limits ``lim`` holds.

    Empty (check everything) when any limit is not tied to a view: application, default or
    meta limits, or a decorated function that is not a view. Otherwise an endpoint is left
    out when its view has a limit or any of its blueprints (a shared limit) has one.
    """
    manager = lim.limit_manager
    if manager._application_limits or manager._default_limits or lim._meta_limits:
        return frozenset()
    names = {endpoint: get_qualified_name(view) for endpoint, view in app.view_functions.items()}
    decorated = set(manager._decorated_limits) | set(lim._marked_for_limiting)
    if not decorated <= set(names.values()):
        return frozenset()
    limited_blueprints = set(manager._blueprint_limits)
    unlimited = set()
    for endpoint, name in names.items():
        blueprints = endpoint.split(".")[:-1]
        if name not in decorated and limited_blueprints.isdisjoint(blueprints):
            unlimited.add(endpoint)
    return frozenset(unlimited)


def _no_limit_applies() -> bool:
    """Flask-Limiter request filter: skip evaluating limits where none is registered.

    The endpoints are derived once per app, at its first request (views and their limit
    decorators are all registered by then); a limit on a helper the view calls leaves a
    hint for the endpoint, and an endpoint with hints is always checked.
    """
    endpoint = request.endpoint
    if endpoint is None:
        return False
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    unlimited = app.extensions.get(UNLIMITED_ENDPOINTS)
    if unlimited is None:
        unlimited = app.extensions[UNLIMITED_ENDPOINTS] = unlimited_endpoints(app, limiter)
    return endpoint in unlimited and not limiter.limit_manager.has_hints(endpoint)


def init_security(app: Flask) -> None:
    limiter.init_app(app)
    if _no_limit_applies not in limiter._request_filters:  # one limiter for every app
        limiter.request_filter(_no_limit_applies)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    sessions.init_app(app)
    headers.init_app(app)
