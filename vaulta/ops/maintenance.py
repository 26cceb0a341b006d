"""Maintenance mode on the web (docs/deploy.md "Maintenance mode").

While it is on, every state-changing request (POST, PUT, PATCH, DELETE; pages, htmx and the
JSON API) is answered before its view runs with 503, a ``Retry-After`` header and the
usual error page, htmx partial or JSON ``{"error": {"code": "maintenance", …}}``. GET
requests are not checked at all (no cost); the few reads that write on the side skip
their write (vaulta/services/maintenance.py). Sign-out stays open: it ends the browser's
session without writing (vaulta/auth/routes.py).

The hook and the error handler are registered app-wide through the ops blueprint.
"""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

from vaulta.error_handlers import error_response
from vaulta.extensions import db
from vaulta.ops import bp
from vaulta.services import maintenance
from vaulta.services.maintenance import Maintenance, UnderMaintenance

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Sign-out must always work; during maintenance it ends this browser's session only.
OPEN_DURING_MAINTENANCE = frozenset({"auth.logout"})
SIGN_IN_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.second_factor",
        "auth.resend_login_code",
        "auth.request_password_reset",
        "auth.confirm_password_reset",
    }
)


@bp.before_app_request
def refuse_changes_during_maintenance() -> Response | None:
    """503 for a state-changing request while maintenance is on: one primary-key read."""
    if request.method in SAFE_METHODS or request.endpoint is None:
        return None  # reads, and unknown addresses (their 404/405 comes next)
    if request.endpoint in OPEN_DURING_MAINTENANCE:
        return None
    state = maintenance.current(db.session())
    return None if state is None else maintenance_response(state)


@bp.app_errorhandler(UnderMaintenance)
def _under_maintenance(err: UnderMaintenance) -> Response:
    """A write refused inside its transaction (it began just as maintenance did)."""
    db.session.rollback()
    return maintenance_response(err.state)


def maintenance_response(state: Maintenance) -> Response:
    seconds = state.retry_after(current_app.config["MAINTENANCE_RETRY_AFTER_SECONDS"])
    response = error_response(503, maintenance_message(state, seconds), "maintenance")
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def maintenance_message(state: Maintenance, retry_after: int) -> str:
    minutes = max(1, round(retry_after / 60))
    when = f"in about {minutes} minute{'s' if minutes > 1 else ''}"
    if state.ends_at is not None:
        when += f" (it is expected to end at {state.ends_at:%H:%M} UTC)"
    if request.path.startswith("/api/"):
        return (
            f"VAULTA is under maintenance ({state.reason}): writes are paused and nothing was "
            f"changed. Reads keep working. Retry after the Retry-After delay ({retry_after} s)."
        )
    if request.endpoint in SIGN_IN_ENDPOINTS:
        return (
            f"Signing in is paused while VAULTA is under maintenance ({state.reason}). "
            f"Please try again {when}. If you are already signed in, you can still view "
            "your pages."
        )
    return (
        f"VAULTA is under maintenance ({state.reason}): changes are paused, and nothing was "
        f"changed. You can still view your pages. Please try again {when}."
    )
