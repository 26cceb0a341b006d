"""The API's refusals: one exception type, and pydantic's validation errors in its words.

Every error the API answers is ``{"error": {"code", "message", "details"?}}``; ``details``
lists ``{"field", "message"}`` for invalid values (422). vaulta/api/__init__.py turns these
exceptions (and the services' DomainErrors) into that JSON.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class ApiError(Exception):
    """An API refusal: HTTP status, stable code, message and optional per-field details."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def malformed_request() -> ApiError:
    return ApiError(
        400, "malformed_request", "Send a JSON object (Content-Type: application/json)."
    )


def validation_failed(details: list[dict[str, str]]) -> ApiError:
    return ApiError(422, "validation_failed", "The request has invalid values.", details)


def _field(error: Any) -> str:
    """A dotted path (``beneficiary.name``); a model-wide rule names its field in ``ctx``."""
    context = error.get("ctx") or {}
    if "field" in context:
        return str(context["field"])
    return ".".join(str(part) for part in error["loc"])


def invalid_values(err: ValidationError) -> ApiError:
    """A 422 naming each field pydantic refused, once per field, in the order found."""
    details: dict[str, str] = {}
    for error in err.errors(include_url=False):
        details.setdefault(_field(error), error["msg"])
    return validation_failed([{"field": f, "message": m} for f, m in details.items()])
