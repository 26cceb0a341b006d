"""JSON bodies: control characters in any key or string at any depth, and nesting deeper
than JSON_MAX_DEPTH, answer 400 with a clear JSON error before anything is parsed into a
payment (vaulta/security/input.py, vaulta/jsonlimits.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.api.conftest import end_read_transaction, payment_body
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.jsonlimits import nesting_exceeds
from vaulta.models import Account, Payment


def _post(api: WebClient, body: str | bytes) -> Any:
    return api.post(
        "/api/v1/payments",
        data=body,
        content_type="application/json",
        headers={"Idempotency-Key": "hostile-1"},
    )


def _no_payments() -> bool:
    end_read_transaction()
    return count_rows(Payment) == 0


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"reference": "a\x00b"}, "The JSON value “reference”"),
        ({"reference": "a\x1bb"}, "The JSON value “reference”"),
        ({"reference": "a\u0085b"}, "The JSON value “reference”"),
        (
            {"beneficiary": {"name": "A\x00", "iban": "GB82WEST12345698765432"}},
            "“beneficiary.name”",
        ),
        ({"extra": [[{"deep": ["x\x7f"]}]]}, "“extra[0][0].deep[0]”"),
        ({"ke\x00y": 1}, "A key in the JSON body"),
        ({"nested": {"ke\ny": 1}}, "A key in the JSON body"),
    ],
)
def test_a_control_character_anywhere_in_the_body_is_a_400(
    api: WebClient, source: Account, target: Account, changes: dict, where: str
) -> None:
    body = payment_body(source, None if "beneficiary" in changes else target, **changes)
    response = _post(api, json.dumps(body))
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "control_character"
    assert where in error["message"]
    assert "contains a control character (U+" in error["message"]
    assert _no_payments()


def test_a_line_break_in_a_value_reaches_the_field_checks(
    api: WebClient, source: Account, target: Account
) -> None:
    """Tab and line breaks pass the request check (multi-line text exists); the payment's
    own field check refuses them in a one-line reference (422 naming the field)."""
    response = _post(api, json.dumps(payment_body(source, target, reference="a\nb")))
    assert response.status_code == 422
    assert response.json["error"]["details"][0]["field"] == "reference"


@pytest.mark.parametrize(
    "body", ["[" * 100_000, "[" * 33 + "]" * 33, '{"a":' * 40 + "1" + "}" * 40]
)
def test_json_nested_too_deep_is_a_400(api: WebClient, body: str) -> None:
    response = _post(api, body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "json_too_deep"
    assert "more than 32 levels" in response.json["error"]["message"]


def test_json_at_the_depth_limit_reaches_the_view(
    api: WebClient, source: Account, target: Account
) -> None:
    nested: Any = 1
    for _ in range(31):  # the body object itself is the 32nd level
        nested = [nested]
    response = _post(api, json.dumps(payment_body(source, target, surprise=nested)))
    assert response.status_code == 422  # an unknown field: the view read the body
    assert response.json["error"]["details"][0]["field"] == "surprise"


def test_brackets_inside_strings_do_not_count(
    api: WebClient, source: Account, target: Account
) -> None:
    reference = '[[[[{{{{"\\' * 10
    response = _post(api, json.dumps(payment_body(source, target, reference=reference[:140])))
    assert response.status_code == 201, response.json


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.sampled_from('[]{}"\\ab,:')),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet=st.sampled_from('[]{}"\\ab')), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(deadline=None)  # a shared, busy machine: no per-example time limit
@given(value=JSON_VALUES, limit=st.integers(min_value=0, max_value=8))
def test_the_depth_scan_agrees_with_the_parsed_depth(value: Any, limit: int) -> None:
    text = json.dumps(value, ensure_ascii=False)
    assert nesting_exceeds(text, limit) == (_depth(value) > limit)
    assert nesting_exceeds(text.encode(), limit) == (_depth(value) > limit)
