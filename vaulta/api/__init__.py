"""The JSON API ``/api/v1`` for customers' API keys (bearer), described at ``/openapi.json``.

Registered in ``create_app`` at ``/api/v1`` and exempt from CSRF: only a bearer key
authenticates here, never the session cookie (vaulta/api/auth.py). Calls refused 401 count
against RATELIMIT_API_AUTH_FAILURES per client address, authenticated calls against
RATELIMIT_API per key (vaulta/api/routes.py, vaulta/security/limits.py). Every error is JSON
``{"error": {"code": …, "message": …, "details"?: [{"field", "message"}]}}``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from vaulta.api.auth import add_challenge
from vaulta.api.errors import ApiError
from vaulta.extensions import db
from vaulta.services.errors import DomainError

bp = Blueprint("api", __name__)


def error_json(err: ApiError) -> Response:
    error: dict[str, object] = {"code": err.code, "message": err.message}
    if err.details:
        error["details"] = err.details
    response = jsonify(error=error)
    response.status_code = err.status
    return add_challenge(response, err)


@bp.errorhandler(ApiError)
def _api_error(err: ApiError) -> Response:
    return error_json(err)


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Response:
    db.session.rollback()
    details = [{"field": err.field, "message": err.message}] if err.field else None
    code = "validation_failed" if err.status == 422 else err.code
    return error_json(ApiError(err.status, code, err.message, details))


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


from vaulta.api import (  # noqa: E402,F401
    balance_routes,
    change_routes,
    fx_routes,
    hold_routes,
    limit_routes,
    routes,
    standing_order_routes,
)
