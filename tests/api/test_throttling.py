"""API rate limits: failed authentication per client address (RATELIMIT_API_AUTH_FAILURES),
authenticated calls per key (RATELIMIT_API); a JSON 429 with Retry-After."""

from __future__ import annotations

import secrets

from flask import Flask

from tests.api.conftest import bearer, make_key
from tests.webclient import WebClient
from vaulta.models import User

ATTACKER = {"REMOTE_ADDR": "10.66.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "10.9.8.7"}


def _random_key() -> str:
    """A well-formed key that exists nowhere: a fresh prefix every time."""
    return f"vk_{secrets.token_hex(5)}_{secrets.token_urlsafe(32)}"


def _wrong_secret(raw: str) -> str:
    """The key's public prefix with someone's guess at the secret."""
    prefix = raw.split("_")[1]
    return f"vk_{prefix}_{secrets.token_urlsafe(32)}"


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


def test_failed_authentication_is_limited_per_client_address(
    app: Flask, client: WebClient, customer_user: User
) -> None:
    """Random prefixes, no key, a malformed key: every 401 counts against the address."""
    app.config["RATELIMIT_API_AUTH_FAILURES"] = "3/minute"
    failures = [
        client.get("/api/v1/accounts", headers=bearer(_random_key()), environ_base=ATTACKER),
        client.get("/api/v1/accounts", environ_base=ATTACKER),
        client.get("/api/v1/payments", headers=bearer("vk_nonsense"), environ_base=ATTACKER),
    ]
    assert [r.status_code for r in failures] == [401, 401, 401]
    refused = client.get("/api/v1/accounts", headers=bearer(_random_key()), environ_base=ATTACKER)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
    # The address is refused before any key is checked, a valid one included ...
    key = make_key(customer_user)
    assert (
        client.get("/api/v1/accounts", headers=bearer(key), environ_base=ATTACKER).status_code
        == 429
    )
    # ... while other addresses are not affected.
    assert (
        client.get("/api/v1/accounts", headers=bearer(key), environ_base=ELSEWHERE).status_code
        == 200
    )
    stranger = client.get("/api/v1/accounts", headers=bearer(_random_key()), environ_base=ELSEWHERE)
    assert stranger.status_code == 401


def test_authenticated_calls_do_not_count_as_failures(
    app: Flask, client: WebClient, customer_user: User
) -> None:
    app.config["RATELIMIT_API_AUTH_FAILURES"] = "2/minute"
    key = make_key(customer_user)
    for _ in range(5):
        assert client.get("/api/v1/accounts", headers=bearer(key)).status_code == 200
    assert client.get("/api/v1/accounts/nope", headers=bearer(key)).status_code == 404
    for _ in range(2):
        assert client.get("/api/v1/accounts", headers=bearer(_random_key())).status_code == 401
    assert client.get("/api/v1/accounts", headers=bearer(_random_key())).status_code == 429


def test_wrong_secrets_with_a_real_prefix_never_spend_that_keys_budget(
    app: Flask, client: WebClient, customer_user: User
) -> None:
    """The prefix is public (settings page, audit log): guessing with it must not lock the
    key's owner out. The guesses count against the guesser's address only."""
    app.config["RATELIMIT_API"] = "3/minute"
    app.config["RATELIMIT_API_AUTH_FAILURES"] = "5/minute"
    key = make_key(customer_user)
    guesses = [
        client.get("/api/v1/accounts", headers=bearer(_wrong_secret(key)), environ_base=ATTACKER)
        for _ in range(8)
    ]
    assert [r.status_code for r in guesses] == [401] * 5 + [429] * 3
    # The owner, from their own address, still has the whole budget of their key.
    owner = [client.get("/api/v1/accounts", headers=bearer(key)).status_code for _ in range(4)]
    assert owner == [200, 200, 200, 429]


def test_the_openapi_document_needs_no_key_and_spends_no_budget(
    app: Flask, client: WebClient
) -> None:
    app.config["RATELIMIT_API_AUTH_FAILURES"] = "1/minute"
    for _ in range(3):
        assert client.get("/api/v1/openapi.json").status_code == 200
    assert client.get("/api/v1/accounts").status_code == 401
