"""``/metrics`` in the Prometheus text format (prometheus_client), and who may read it.

Request latency is a histogram labelled by Flask endpoint, method and status class (a
bounded set: the app's endpoints, a handful of methods, five classes; unmatched URLs count
as endpoint ``none``). Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory,
one per instance): each worker writes its samples there and a scrape, answered by any
worker, sums them all; gunicorn.conf.py marks a dead worker's files (``child_exit``).

The other figures are read when Prometheus scrapes (vaulta/ops/metrics_collectors.py), from
the database and the task queue every instance shares, so N instances report the same
totals and nothing is lost with a restart.

Access (docs/security.md "Metrics"): ``METRICS_TOKEN`` (``Authorization: Bearer …``,
compared in constant time) and/or ``METRICS_ALLOWED_NETWORKS`` (comma-separated CIDRs).
With neither set the route answers 404: nothing is published unless the operator says so.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import time
from collections.abc import Iterable

from flask import Flask, current_app, g, request, request_started
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from werkzeug.wrappers import Response

from vaulta.config import ConfigError
from vaulta.ops.metrics_collectors import AppCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STARTED = "_vaulta_request_started"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Not in prometheus_client's global registry: each scrape builds its own (below).
REQUEST_LATENCY = Histogram(
    "vaulta_http_request_duration_seconds",
    "Time to answer an HTTP request, by Flask endpoint, method and status class.",
    ("endpoint", "method", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def init_app(app: Flask) -> None:
    """Check the networks setting, and time every request: the start is taken before any
    other hook runs."""
    try:
        allowed_networks(app.config.get("METRICS_ALLOWED_NETWORKS"))
    except ValueError as err:
        raise ConfigError(f"METRICS_ALLOWED_NETWORKS: {err}") from None
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and not os.path.isdir(directory):
        raise ConfigError(f"{MULTIPROC_ENV}={directory} is not a directory: create it (empty).")
    # Flask's request_started signal comes before every before_request hook.
    request_started.connect(_start_timer, app)
    app.after_request(_observe)


def _start_timer(_sender: object, **_extra: object) -> None:
    g.setdefault(_STARTED, time.perf_counter())


def _observe(response: Response) -> Response:
    started = g.pop(_STARTED, None)
    if started is not None:
        rule = request.url_rule
        method = request.method if request.method in METHODS else "other"
        REQUEST_LATENCY.labels(
            rule.endpoint if rule is not None else "none",
            method,
            f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - started)
    return response


def exposition(app: Flask) -> tuple[bytes, str]:
    """The metrics text and its content type."""
    registry = CollectorRegistry()
    if multiprocess_mode():
        multiprocess.MultiProcessCollector(registry)  # every worker's request histograms
    else:
        registry.register(REQUEST_LATENCY)
    registry.register(AppCollector(app))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def allowed_networks(setting: str | Iterable[str] | None) -> list[Network]:
    """Parse METRICS_ALLOWED_NETWORKS (comma-separated CIDRs or addresses)."""
    if not setting:
        return []
    items = setting.split(",") if isinstance(setting, str) else list(setting)
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


def access_status() -> int | None:
    """None when this request may read /metrics, else the status to answer: 404 when
    metrics are off or the client is outside the allowed networks (nothing to see), 401
    when the bearer token is missing or wrong."""
    config = current_app.config
    token = config.get("METRICS_TOKEN") or ""
    networks = allowed_networks(config.get("METRICS_ALLOWED_NETWORKS"))
    if not token and not networks:
        return 404
    if networks and not _client_in(networks):
        return 404
    if token and not _bearer_matches(token):
        return 401
    return None


def _client_in(networks: list[Network]) -> bool:
    try:
        client = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(client in network for network in networks)


def _bearer_matches(expected: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    # Digests first: equal lengths, so the comparison time says nothing about the token.
    given_digest = hashlib.sha256(given.strip().encode()).digest()
    return hmac.compare_digest(given_digest, hashlib.sha256(expected.encode()).digest())
