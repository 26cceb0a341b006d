"""``/api/v1/webhook-endpoints``: create, list, read, change, delete, rotate, replay (JSON).

Errors are the API's JSON shape (``{"error": {"code", "message", "details"?}}``): domain
errors through the app-wide handler, bad bodies here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from flask import jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user
from vaulta.services.errors import DomainError, Forbidden, InvalidInput
from vaulta.services.identity import permissions
from vaulta.services.webhooks import endpoint_queries, endpoints
from vaulta.webhooks import api_bp


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class EndpointCreate(_Body):
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(min_length=1, max_length=50)
    description: str = Field("", max_length=200)
    enabled: bool = True


class EndpointChange(_Body):
    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, min_length=1, max_length=50)
    description: str | None = Field(None, max_length=200)
    enabled: bool | None = None


class Rotation(_Body):
    grace_hours: int = Field(endpoints.DEFAULT_ROTATION_GRACE_HOURS, ge=0)


class Replay(_Body):
    delivery_id: int | None = Field(None, ge=1, le=2**31 - 1)
    since: datetime | None = None


B = TypeVar("B", bound=_Body)


class Unauthenticated(DomainError):
    status = 401
    code = "unauthorized"


def _body(model: type[B]) -> B:
    """The request's JSON object as ``model`` (strict JSON types, no unknown keys); 422."""
    if not request.is_json:
        raise InvalidInput("Send a JSON object (Content-Type: application/json).")
    try:
        return model.model_validate_json(request.get_data() or b"null")
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise InvalidInput(first["msg"], field=field) from None


@api_bp.before_request
def _admins_only() -> None:
    if not current_user.is_authenticated:
        raise Unauthenticated("Sign in as an admin.")
    if not permissions.has_permission(current_user, "webhooks.manage"):
        raise Forbidden("Only admins manage webhook endpoints.")


@api_bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _json(public_id: str, **extra: Any) -> dict[str, Any]:
    return endpoint_queries.endpoint_json(endpoint_queries.get_endpoint(public_id)) | extra


@api_bp.post("")
def create() -> tuple[Response, int]:
    body = _body(EndpointCreate)
    made = endpoints.create_endpoint(actor=acting_user(), **body.model_dump())
    response = jsonify(_json(made.endpoint.public_id, secret=made.secret))
    response.headers["Location"] = f"{request.path}/{made.endpoint.public_id}"
    return response, 201


@api_bp.get("")
def list_all() -> Response:
    return jsonify(
        items=[endpoint_queries.endpoint_json(e) for e in endpoint_queries.list_endpoints()]
    )


@api_bp.get("/<public_id>")
def read(public_id: str) -> Response:
    endpoint = endpoint_queries.get_endpoint(public_id)
    deliveries = endpoint_queries.delivery_log(endpoint.id)
    return jsonify(endpoint_queries.endpoint_json(endpoint) | {"deliveries": deliveries})


@api_bp.patch("/<public_id>")
def change(public_id: str) -> Response:
    body = _body(EndpointChange)
    endpoints.update_endpoint(public_id, actor=acting_user(), **body.model_dump(exclude_unset=True))
    return jsonify(_json(public_id))


@api_bp.delete("/<public_id>")
def delete(public_id: str) -> tuple[str, int]:
    endpoints.delete_endpoint(public_id, actor=acting_user())
    return "", 204


@api_bp.post("/<public_id>/rotate-secret")
def rotate(public_id: str) -> Response:
    body = _body(Rotation)
    rotated = endpoints.rotate_secret(public_id, actor=acting_user(), grace_hours=body.grace_hours)
    return jsonify(_json(public_id, secret=rotated.secret))


@api_bp.post("/<public_id>/replay")
def replay(public_id: str) -> Response:
    body = _body(Replay)
    if body.since is not None and body.since.tzinfo is None:
        raise InvalidInput(
            "Give the time with its offset (e.g. 2026-12-01T00:00:00Z).", field="since"
        )
    count = endpoints.replay(
        public_id, actor=acting_user(), delivery_id=body.delivery_id, since=body.since
    )
    return jsonify(replayed=count)
