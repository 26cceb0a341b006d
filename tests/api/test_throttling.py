"""RATELIMIT_API: counted per key prefix, answered with a JSON 429 and Retry-After."""

from __future__ import annotations

from flask import Flask

from tests.api.conftest import bearer, make_key
from tests.webclient import WebClient
from vaulta.models import User


def test_each_key_has_its_own_budget_and_gets_a_json_429(
    app: Flask, client: WebClient, customer_user: User, other_customer_user: User
) -> None:
    app.config["RATELIMIT_API"] = "3/minute"
    busy, other = make_key(customer_user), make_key(other_customer_user)
    for _ in range(3):
        assert client.get("/api/v1/accounts", headers=bearer(busy)).status_code == 200
    response = client.get("/api/v1/payments", headers=bearer(busy))
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.json["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    # Another key (from the same address) is not affected.
    assert client.get("/api/v1/accounts", headers=bearer(other)).status_code == 200


def test_calls_without_a_key_are_counted_by_address(app: Flask, client: WebClient) -> None:
    app.config["RATELIMIT_API"] = "2/minute"
    for _ in range(2):
        assert client.get("/api/v1/accounts").status_code == 401
    assert client.get("/api/v1/accounts").status_code == 429
    elsewhere = client.get("/api/v1/accounts", environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert elsewhere.status_code == 401
