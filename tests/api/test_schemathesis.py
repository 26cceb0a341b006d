"""schemathesis against /api/v1/openapi.json: no server errors, every response as documented.

The schema is loaded from the app itself (WSGI, no server). Each operation is fuzzed with
positive cases (valid per the document) and negative ones (invalid), with the customer's
key in the Authorization header; path parameters and the payment body are sometimes pinned
to the customer's real account so that the 200/201 answers are exercised too. A fixed
number of examples keeps it to a few seconds per backend.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import bearer, payment_body
from tests.webclient import WebClient
from vaulta.models import Account

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 15  # per operation and mode


@pytest.fixture
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_is_openapi_3_1_and_lists_every_api_route(
    app: Flask, client: WebClient
) -> None:
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    documented = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<int:", "<")
            path = path.replace("<", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    scopes = {
        (path, method): op["security"]
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    }
    assert scopes[("/api/v1/payments", "post")] == [{"bearerAuth": ["payments:write"]}]
    assert scopes[("/api/v1/openapi.json", "get")] == []
    assert scopes[("/api/v1/me", "get")] == [{"bearerAuth": []}]  # any valid key
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def _strategy(operation: Any, mode: schemathesis.GenerationMode, pinned: dict) -> Any:
    options = [operation.as_strategy(mode)]
    parameters = {p["name"] for p in operation.definition.raw.get("parameters", [])}
    if "number" in parameters:
        options.append(operation.as_strategy(mode, path_parameters={"number": pinned["number"]}))
    has_body = "requestBody" in operation.definition.raw
    if has_body and operation.method.upper() == "POST" and mode.is_positive:
        body = pinned["body"]
        if operation.path.endswith("/standing-orders"):  # a payment's fields, then when
            body = body | {"frequency": "monthly", "first_date": date.today().isoformat()}
        options.append(operation.as_strategy(mode, body=body))
    return st.one_of(options)


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
def test_the_api_conforms_to_its_document(
    api_schema: schemathesis.BaseSchema,
    key: str,
    source: Account,
    target: Account,
    mode: schemathesis.GenerationMode,
) -> None:
    pinned = {"number": source.number, "body": payment_body(source, target)}
    checks = [*CONFORMANCE, negative_data_rejection] if mode.is_negative else CONFORMANCE
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 31  # schemathesis leaves out the document it was loaded from

    for operation in operations:

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=_strategy(operation, mode, pinned))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=bearer(key), checks=checks)

        run()
