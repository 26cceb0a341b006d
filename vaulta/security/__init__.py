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
    """True where no limit is registered for the request's endpoint (see ``check_limits``).

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


def check_limits() -> None:
    """Flask-Limiter's before_request check, not even started where no limit applies.

    Its own request filters run only after it has resolved the view's name and its
    exemptions, which cost a light page about 5% of its time; everything else it does
    (the decorators' checks, its teardown) is unchanged.
    """
    if not _no_limit_applies():
        limiter._check_request_limit()


def _shortcut_limit_check(app: Flask) -> None:
    """Put ``check_limits`` where ``Limiter.init_app`` registered its before_request check
    (Flask-Limiter is pinned; tests/security/test_limit_filter.py checks the swap)."""
    hooks = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit
    app.before_request_funcs[None] = [check_limits if hook == check else hook for hook in hooks]


def init_security(app: Flask) -> None:
    limiter.init_app(app)
    _shortcut_limit_check(app)
    app.register_error_handler(RateLimitExceeded, _too_many_requests)
    sessions.init_app(app)
    headers.init_app(app)
