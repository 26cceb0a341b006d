"""The staff API's deposits and withdrawals take an optional ``value_date`` (422 outside the
backdating window or not YYYY-MM-DD; the request records it in its change)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from tests import factories
from tests.api.test_change_requests import TELLER_SCOPES, bearer
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ChangeRequest, User, utcnow
from vaulta.services.identity import api_keys


@pytest.fixture
def account(customer_user: User) -> Account:
    return factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)


@pytest.fixture
def teller_key(app: Flask, teller: User) -> dict[str, str]:
    return bearer(api_keys.create_for_staff(teller, "Till", TELLER_SCOPES, actor=None).raw)


def _post(client: WebClient, key: dict, account: Account, idem: str, **extra: object):  # type: ignore[no-untyped-def]
    body = {"amount_minor": 500, "currency": "EUR", "description": "Counter"} | extra
    return client.post(
        f"/api/v1/accounts/{account.number}/withdrawals",
        json=body,
        headers={**key, "Idempotency-Key": idem},
    )


def test_a_backdated_withdrawal_is_requested_with_its_value_date(
    client: WebClient, teller_key: dict, account: Account
) -> None:
    day = (utcnow().date() - timedelta(days=5)).isoformat()
    response = _post(client, teller_key, account, "v1", value_date=day)
    assert response.status_code == 202, response.json
    assert response.json["summary"].endswith(f"value date {day}")
    request = db.session.get(ChangeRequest, response.json["id"])
    assert request is not None
    assert request.change["params"]["value_date"] == day


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (1, "in the future"),
        (-6, "more than 5 days back"),
        ("2026-02-30", "YYYY-MM-DD"),
        ("1 Nov", None),
        (20261101, None),
    ],
)
def test_a_bad_value_date_is_422_naming_the_field(
    client: WebClient, teller_key: dict, account: Account, value: object, words: str | None
) -> None:
    if isinstance(value, int) and abs(value) < 100:
        value = (utcnow().date() + timedelta(days=value)).isoformat()
    response = _post(client, teller_key, account, "v2", value_date=value)
    assert response.status_code == 422, response.json
    assert response.json["error"]["details"][0]["field"] == "value_date"
    if words:
        assert words in response.json["error"]["message"] + str(response.json["error"]["details"])
    assert count_rows(ChangeRequest) == 0
