"""The OpenAPI 3.1 document of ``/api/v1`` and the request checks, both from vaulta/api/models.py.

spectree (a maintained Flask integration for pydantic, used on the plain blueprint) does
both: each view is declared once with ``operation(...)`` — its scope, its success model,
the errors it can answer beyond the ones every call can — and its ``query``, ``json`` and
``headers`` arguments are annotated with models. spectree validates those before the view
runs and builds the document from the same models, so a new endpoint needs no edit here.

What this module adds to spectree, each through its public API:

- the API's error JSON: a request that does not fit its models is refused by the
  ``before`` hook with ``{"error": {"code": "validation_failed", "details": [...]}}`` (422),
  after the checks that answer 400 (an Idempotency-Key missing or out of shape, a body that
  is not a JSON object);
- the permission: ``operation(permission=...)`` both checks it (``requires_permission`` in
  vaulta/api/auth.py: the key's user holds it and the key's scopes carry it) and lists the
  scope that carries it as the operation's security requirement;
- response headers, by rule (``document``): ``WWW-Authenticate`` on 401, ``Retry-After`` on
  429/503, ``Location`` on 201, ``Idempotent-Replayed`` on the success of an operation that
  takes an Idempotency-Key.

The document is served by the blueprint at ``/api/v1/openapi.json`` (vaulta/api/routes.py);
spectree's own documentation pages are not registered (they load scripts from a CDN).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, get_type_hints

from flask import request
from pydantic import ValidationError
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree

from vaulta.api.auth import requires_any_permission, requires_permission, scope_for
from vaulta.api.errors import ApiError, invalid_values, malformed_request
from vaulta.api.models import Error, IdempotencyHeaders
from vaulta.services.events.payloads import schema_components as event_schemas

F = TypeVar("F", bound=Callable[..., Any])

ERRORS = {
    400: "Malformed request, a missing or invalid Idempotency-Key, an API key in the URL, "
    "a control character in the path, query or JSON body (control_character), or JSON nested "
    "deeper than JSON_MAX_DEPTH (json_too_deep)",
    401: "No API key, or an unknown, revoked or expired one",
    403: "The key's user lacks the operation's permission (forbidden: e.g. a staff key on a "
    "customer's operation), the key's scopes leave it out (insufficient_scope), its "
    "customer is suspended or closed (customer_suspended, customer_closed), or a change "
    "request's level needs a one-time code, now mailed (step_up_required)",
    404: "No such object (for a customer's key: among its customer's)",
    409: "Idempotency-Key reused with another request (idempotency_key_reused), an "
    "account that cannot take part (account_not_available), a change request already "
    "decided, decided by this user before, or made by them (conflict), or the same request "
    "already pending (duplicate_request)",
    413: "The body is larger than MAX_CONTENT_LENGTH (too_large)",
    422: "Invalid values: details name each field",
    429: "Too many calls with this key (RATELIMIT_API), or too many calls refused 401 "
    "from this address (RATELIMIT_API_AUTH_FAILURES)",
    503: "The service cannot reach its database right now (unavailable): retry after "
    "Retry-After seconds; retry a payment with the same Idempotency-Key",
}
# Every authenticated call can meet these: a key in the URL, no/bad key, no permission,
# invalid values, throttled, outage.
EVERY_CALL = (400, 401, 403, 422, 429, 503)

_STRING = {"schema": {"type": "string"}}
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    "201": {"Location": _STRING},
    "401": {"WWW-Authenticate": {"required": True, **_STRING}},
    "429": {"Retry-After": _STRING},
    "503": {"Retry-After": _STRING},
}
REPLAYED = {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}}}

api_spec = SpecTree(
    "flask",
    mode="strict",  # only the operations declared here
    title="VAULTA API",
    version="1.0.0",
    description="A customer's accounts, statements and payments. Authenticate with "
    "'Authorization: Bearer vk_<prefix>_<secret>' (never in the URL). Amounts are "
    "integers in minor units with their currency.",
    security_schemes=[
        SecurityScheme(
            name="bearerAuth",
            data=SecuritySchemeData(
                type="http",
                scheme="bearer",
                description="A customer's API key from Settings (scopes 'read', "
                "'payments:write'), or a staff key from `flask vaulta create-api-key` "
                "(scopes 'read' or permission names: its user's permissions, narrowed).",
            ),
        )
    ],
    security={"bearerAuth": []},
    page_templates={},
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    validation_error_model=Error,
)


def _idempotency_key() -> None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        raise ApiError(
            400, "idempotency_key_required", "Send an Idempotency-Key header (1 to 64 characters)."
        )
    try:
        IdempotencyHeaders.model_validate({"Idempotency-Key": value})
    except ValidationError:
        raise ApiError(
            400,
            "invalid_idempotency_key",
            "The Idempotency-Key has 1 to 64 visible ASCII characters, no spaces.",
        ) from None


def _json_object() -> None:
    if not request.is_json or not isinstance(request.get_json(silent=True), dict):
        raise malformed_request()


def _refusing(checks: list[Callable[[], None]]) -> Callable[..., None]:
    """spectree's ``before`` hook: the 400 checks, then spectree's verdict on the models."""

    def before(
        req: Any, resp: Any, err: ValidationError | None, instance: Any, adapter: Any
    ) -> None:
        for check in checks:
            check()
        if err is not None:
            raise invalid_values(err)

    return before


def operation(
    *,
    permission: str | tuple[str, ...] | None,
    ok: tuple[int, type],
    errors: tuple[int, ...] = (),
    path: dict[str, str] | None = None,
    key: bool = True,
    also: tuple[tuple[int, type, str], ...] = (),
) -> Callable[[F], F]:
    """Declare a view: the permission it needs (vaulta/services/identity/permissions.py;
    a tuple: any one of them; None: any valid key), whether it needs a key at all
    (``key=False``: the document), its success status and model (and ``also``: other
    successes, with their descriptions), the errors it answers beyond EVERY_CALL, and
    descriptions of its path parameters."""
    status, model = ok
    statuses = sorted({*EVERY_CALL, *errors}) if key else [400]
    names = (permission,) if isinstance(permission, str) else (permission or ())
    scopes = sorted({scope_for(name) for name in names})
    responses = {f"HTTP_{status}": (model, "OK")}
    responses |= {f"HTTP_{code}": (other, text) for code, other, text in also}
    responses |= {f"HTTP_{code}": (Error, ERRORS[code]) for code in statuses}

    def decorate(view: F) -> F:
        hints = get_type_hints(view)
        checks = []
        if hints.get("headers") is IdempotencyHeaders:
            checks.append(_idempotency_key)
        if "json" in hints:
            checks.append(_json_object)
        validated = api_spec.validate(
            resp=Response(**responses),
            security={"bearerAuth": scopes} if key else [],
            before=_refusing(checks),
            path_parameter_descriptions=path,
        )(view)
        if isinstance(permission, tuple):
            return requires_any_permission(*permission)(validated)
        return requires_permission(permission)(validated) if permission else validated

    return decorate


@cache
def document() -> dict[str, Any]:
    """spectree's document with the response headers that each status carries, and the
    webhook body and each event's data among its components (vaulta/services/events)."""
    result = copy.deepcopy(api_spec.spec)
    result.setdefault("components", {}).setdefault("schemas", {}).update(event_schemas())
    for operations in result["paths"].values():
        for op in operations.values():
            idempotent = any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
            for status, response in op["responses"].items():
                headers = dict(RESPONSE_HEADERS.get(status, {}))
                if idempotent and status.startswith("2"):
                    headers |= REPLAYED
                if headers:
                    response["headers"] = headers
    return result
