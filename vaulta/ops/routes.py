"""/healthz for load balancers, /metrics for Prometheus and the admin "system" page."""

from __future__ import annotations

import logging

from flask import abort, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from vaulta.auth.access import require_permission
from vaulta.extensions import db
from vaulta.ops import bp, health_bp, queue
from vaulta.ops import metrics as metrics_module
from vaulta.ops.schema import schema_status
from vaulta.ops.startup import migrations_directory
from vaulta.services import maintenance
from vaulta.web import render

log = logging.getLogger(__name__)


@health_bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the database answers and is at the newest revision (or newer: upgraded for
    the release being rolled out), else 503 with why.

    Maintenance mode is 200 with ``"status": "maintenance"``: the instance serves reads,
    and a load balancer must not take every instance out for a read-only window."""
    try:
        status = schema_status(db.engine, migrations_directory())
        state = maintenance.current(db.session()) if status.can_serve else None
    except SQLAlchemyError as err:
        log.warning("healthz: database unreachable: %s", type(err).__name__)
        body = {"status": "error", "database": "unreachable", "schema": "unknown"}
        return _no_store(jsonify(body)), 503
    if status.can_serve and state is not None:
        body = {
            "status": "maintenance",
            "database": "ok",
            "schema": status.describe(),
            "maintenance": {
                "reason": state.reason,
                "since": state.started_at.isoformat(),
                "ends_at": state.ends_at.isoformat() if state.ends_at else None,
            },
        }
        return _no_store(jsonify(body)), 200
    if status.can_serve:  # newer than the code too: it serves while the new code rolls out
        body = {"status": "ok", "database": "ok", "schema": status.describe()}
        return _no_store(jsonify(body | {"queue": queue.health(current_app)})), 200
    body = {
        "status": "error",
        "database": "ok",
        "schema": status.describe() + ": run `flask db upgrade`",
    }
    return _no_store(jsonify(body)), 503


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/system")
@require_permission("system.read")
def system() -> Response:
    return render("ops/system.html", schema=schema_status(db.engine, migrations_directory()))


@health_bp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics (vaulta/ops/metrics.py); token and/or network guarded."""
    refused = metrics_module.access_status()
    if refused == 401:
        response = Response("Unauthorized\n", 401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return _no_store(response)
    if refused is not None:
        abort(refused)
    body, content_type = metrics_module.exposition(current_app)
    return _no_store(Response(body, 200, content_type=content_type))
