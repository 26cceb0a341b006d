"""The OpenAPI 3.1 document of ``/api/v1``, served at ``/api/v1/openapi.json``.

It describes what routes.py and schemas.py do; tests/api/test_schemathesis.py checks every
response against it. The security requirement of each operation lists the key scope it
needs (OpenAPI 3.1 lets non-OAuth schemes name roles there).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from vaulta.api import schemas
from vaulta.models.account import ACCOUNT_STATUSES
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.models.transaction import TRANSACTION_KINDS
from vaulta.money import CURRENCIES

JSON = "application/json"
REF = "#/components/schemas/"
TIMESTAMP = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
ACCOUNT_NUMBER = {"type": "string", "pattern": "^[0-9]{10}$", "examples": ["1000000009"]}
CURRENCY = {"type": "string", "enum": list(CURRENCIES), "description": "ISO 4217"}
TEXT = {"type": "string", "minLength": 1, "maxLength": schemas.TEXT_MAX}

ERRORS = {
    "400": "Malformed request, a missing or invalid Idempotency-Key, an API key in the URL, "
    "a control character in the path, query or JSON body (control_character), or JSON nested "
    "deeper than JSON_MAX_DEPTH (json_too_deep)",
    "401": "No API key, or an unknown, revoked or expired one",
    "403": "The key's user lacks the operation's permission (forbidden: e.g. a staff key on a "
    "customer's operation), the key's scopes leave it out (insufficient_scope), or its "
    "customer is suspended or closed (customer_suspended, customer_closed)",
    "404": "No such object among the key owner's customer's",
    "409": "Idempotency-Key reused with another request (idempotency_key_reused), or an "
    "account that cannot take part (account_not_available)",
    "413": "The body is larger than MAX_CONTENT_LENGTH (too_large)",
    "422": "Invalid values: details name each field",
    "429": "Too many calls with this key (RATELIMIT_API), or too many calls refused 401 "
    "from this address (RATELIMIT_API_AUTH_FAILURES)",
    "503": "The service cannot reach its database right now (unavailable): retry after "
    "Retry-After seconds; retry a payment with the same Idempotency-Key",
}

# Every authenticated call: a key in the URL, no/bad key, wrong scope, throttled, outage.
AUTH_ONLY = ("400", "401", "403", "429", "503")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _obj(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _component_schemas() -> dict[str, Any]:
    maximum = current_app.config["LEDGER_MAX_AMOUNT_MINOR"]
    amount = {"type": "integer", "minimum": 1, "maximum": maximum, "description": "minor units"}
    names = {"type": "array", "items": {"type": "string"}}
    beneficiary = _obj(
        {"name": TEXT, "iban": {"type": "string", "pattern": schemas.IBAN_SHAPE.pattern}}
    )
    return {
        "Error": _obj(
            {
                "error": _obj(
                    {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "array", "items": _ref("FieldProblem")},
                    },
                    required=["code", "message"],
                )
            }
        ),
        "FieldProblem": _obj({"field": {"type": "string"}, "message": {"type": "string"}}),
        "Account": _obj(
            {
                "number": ACCOUNT_NUMBER,
                "currency": CURRENCY,
                "balance_minor": {"type": "integer", "description": "minor units"},
                "status": {"type": "string", "enum": list(ACCOUNT_STATUSES)},
                "opened_at": TIMESTAMP,
                "closed_at": NULLABLE_TIMESTAMP,
            }
        ),
        "AccountList": _obj({"items": {"type": "array", "items": _ref("Account")}}),
        "Transaction": _obj(
            {
                "id": {"type": "integer"},
                "created_at": TIMESTAMP,
                "kind": {"type": "string", "enum": list(TRANSACTION_KINDS)},
                "description": {"type": "string"},
                "reference": {"type": ["string", "null"]},
                "amount_minor": {
                    "type": "integer",
                    "description": "signed for this account: credits positive, debits negative",
                },
                "currency": CURRENCY,
                "balance_after_minor": {"type": "integer"},
                "counterparty_account": {"type": "string"},
            }
        ),
        "TransactionPage": _page("Transaction"),
        "Beneficiary": beneficiary,
        "Payment": _obj(
            {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": list(PAYMENT_STATUSES)},
                "from_account": ACCOUNT_NUMBER,
                "to_account": {"type": ["string", "null"]},
                "beneficiary": _nullable(_ref("Beneficiary")),
                "amount_minor": {"type": "integer", "minimum": 1, "description": "minor units"},
                "currency": CURRENCY,
                "reference": {"type": "string"},
                "created_at": TIMESTAMP,
                "updated_at": TIMESTAMP,
                "confirmed_at": NULLABLE_TIMESTAMP,
                "expires_at": TIMESTAMP,
                "approved_at": NULLABLE_TIMESTAMP,
                "decided_at": NULLABLE_TIMESTAMP,
                "rejection_reason": {"type": ["string", "null"]},
                "failure_reason": {"type": ["string", "null"]},
                "transaction_id": {"type": ["integer", "null"]},
            }
        ),
        "PaymentPage": _page("Payment"),
        "PaymentRequest": {
            **_obj(
                {
                    "from_account": ACCOUNT_NUMBER,
                    "to_account": ACCOUNT_NUMBER,
                    "beneficiary": _ref("Beneficiary"),
                    "amount_minor": amount,
                    "currency": CURRENCY,
                    "reference": TEXT,
                },
                required=["from_account", "amount_minor", "currency", "reference"],
            ),
            "oneOf": [{"required": ["to_account"]}, {"required": ["beneficiary"]}],
            "description": "Pay a VAULTA account (to_account) or an external IBAN (beneficiary).",
        },
        "Me": _obj(
            {
                "email": {"type": "string"},
                "roles": names,
                "scopes": names,
                "permissions": {**names, "description": "the user's, narrowed by the scopes"},
            },
            required=["email", "roles", "scopes", "permissions"],
        ),
    }


def _page(item: str) -> dict[str, Any]:
    return _obj(
        {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as ?cursor= for the next page; null on the last page.",
            },
        }
    )


def _param(name: str, where: str, schema: dict[str, Any], text: str, **extra: Any) -> dict:
    return {"name": name, "in": where, "schema": schema, "description": text, **extra}


ACCOUNT_PARAM = _param("number", "path", ACCOUNT_NUMBER, "Account number", required=True)
PAYMENT_ID_PARAM = _param(
    "payment_id",
    "path",
    {"type": "integer", "minimum": 1, "maximum": schemas.ID_MAX},
    "Payment id",
    required=True,
)
LIMIT_PARAM = _param(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": schemas.LIMIT_MAX, "default": 50},
    "Page size",
)
CURSOR_PARAM = _param(
    "cursor",
    "query",
    {"type": "string", "maxLength": schemas.CURSOR_MAX_LENGTH},
    "The next_cursor of the previous page (opaque)",
)
STATUS_PARAM = _param(
    "status", "query", {"type": "string", "enum": list(PAYMENT_STATUSES)}, "Only this status"
)
IDEMPOTENCY_PARAM = _param(
    "Idempotency-Key",
    "header",
    {"type": "string", "pattern": "^[!-~]{1,64}$"},
    "1-64 visible ASCII characters. The first response to a key is stored and replayed "
    "to the same request; another request with the key gets 409.",
    required=True,
)


def _json(schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}, **extra}


def _responses(ok: str, schema: str, statuses: tuple[str, ...], **extra: Any) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: _json(_ref(schema), "OK", **extra)}
    for status in statuses:
        responses[status] = _json(_ref("Error"), ERRORS[status])
    if "401" in responses:
        responses["401"]["headers"] = {
            "WWW-Authenticate": {"required": True, "schema": {"type": "string"}}
        }
    for status in ("429", "503"):
        if status in responses:
            responses[status]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return responses


def _read(
    summary: str, schema: str, params: list[dict], statuses: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": [{"bearerAuth": ["read"]}],
        "parameters": params,
        "responses": _responses("200", schema, statuses),
    }


def _create_payment() -> dict[str, Any]:
    replayed = {"Idempotent-Replayed": {"schema": {"type": "string", "enum": ["true"]}}}
    location = {"Location": {"schema": {"type": "string"}}}
    return {
        "summary": "Request a payment (created in pending_approval: the key is the credential)",
        "security": [{"bearerAuth": ["payments:write"]}],
        "parameters": [IDEMPOTENCY_PARAM],
        "requestBody": {"required": True, "content": {JSON: {"schema": _ref("PaymentRequest")}}},
        "responses": _responses(
            "201",
            "Payment",
            ("400", "401", "403", "409", "413", "422", "429", "503"),
            headers={**location, **replayed},
        ),
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "VAULTA API",
            "version": "1.0.0",
            "description": "A customer's accounts, statements and payments. Authenticate with "
            "'Authorization: Bearer vk_<prefix>_<secret>' (never in the URL). Amounts are "
            "integers in minor units with their currency.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": _json({"type": "object"}, "OpenAPI 3.1 document"),
                        "400": _json(_ref("Error"), ERRORS["400"]),
                    },
                }
            },
            "/me": {
                "get": {
                    "summary": "The key's user, roles, scopes and permissions (any valid key)",
                    "security": [{"bearerAuth": []}],
                    "responses": _responses("200", "Me", ("400", "401", "429", "503")),
                }
            },
            "/accounts": {"get": _read("The customer's accounts", "AccountList", [], AUTH_ONLY)},
            "/accounts/{number}": {
                "get": _read("One account", "Account", [ACCOUNT_PARAM], (*AUTH_ONLY, "404"))
            },
            "/accounts/{number}/transactions": {
                "get": _read(
                    "The account's transactions, newest first (keyset pages)",
                    "TransactionPage",
                    [ACCOUNT_PARAM, LIMIT_PARAM, CURSOR_PARAM],
                    (*AUTH_ONLY, "404", "422"),
                )
            },
            "/payments": {
                "get": _read(
                    "The customer's payments, newest first (keyset pages)",
                    "PaymentPage",
                    [STATUS_PARAM, LIMIT_PARAM, CURSOR_PARAM],
                    (*AUTH_ONLY, "422"),
                ),
                "post": _create_payment(),
            },
            "/payments/{payment_id}": {
                "get": _read("One payment", "Payment", [PAYMENT_ID_PARAM], (*AUTH_ONLY, "404"))
            },
        },
        "components": {
            "schemas": _component_schemas(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A customer's API key from Settings (scopes 'read', "
                    "'payments:write'), or a staff key from `flask vaulta create-api-key` "
                    "(scopes 'read' or permission names: its user's permissions, narrowed).",
                }
            },
        },
    }
