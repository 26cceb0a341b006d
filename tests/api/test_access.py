"""Who may call the API: bearer keys only, scopes, customers only, own data only, no CSRF."""

from __future__ import annotations

import pytest
from flask import Flask, url_for

from tests import factories
from tests.api.conftest import bearer, expire_key, force_key, make_key, payment_body
from tests.services.payments.factories import make_payment
from tests.webclient import WebClient
from vaulta.models import Account, User
from vaulta.services.identity import api_keys
from vaulta.services.unit_of_work import write_transaction

READ_URLS = (
    "/api/v1/accounts",
    "/api/v1/accounts/{own}",
    "/api/v1/accounts/{own}/transactions",
    "/api/v1/accounts/{own}/balance?as_of=2026-11-01T00:00:00Z",
    "/api/v1/payments",
)


def _urls(account: Account) -> list[str]:
    return [url.format(own=account.number) for url in READ_URLS]


def _assert_401(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"]["code"] == "unauthorized"


def test_every_read_endpoint_works_with_a_read_key(
    client: WebClient, customer_user: User, source: Account
) -> None:
    raw = make_key(customer_user, ("read",))
    for url in _urls(source):
        response = client.get(url, headers=bearer(raw))
        assert response.status_code == 200, url
        assert response.mimetype == "application/json"
        assert response.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer vk_notakey",
        "Bearer vk_AAAAAAAAAA_" + "x" * 43,  # well formed, unknown prefix
        "Token vk_AAAAAAAAAA_" + "x" * 43,
    ],
)
def test_missing_or_invalid_keys_get_401(
    client: WebClient, source: Account, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for url in [*_urls(source), "/api/v1/payments/1"]:
        _assert_401(client.get(url, headers=headers))
    _assert_401(client.post("/api/v1/payments", json=payment_body(source), headers=headers))


def test_a_wrong_secret_for_a_real_prefix_gets_401(
    client: WebClient, customer_user: User, source: Account
) -> None:
    raw = make_key(customer_user)
    forged = raw[: -len("abcd")] + ("abcd" if not raw.endswith("abcd") else "wxyz")
    response = client.get("/api/v1/accounts", headers=bearer(forged))
    _assert_401(response)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_and_expired_keys_get_401(client: WebClient, customer_user: User) -> None:
    revoked, expired = make_key(customer_user), make_key(customer_user)
    assert client.get("/api/v1/accounts", headers=bearer(revoked)).status_code == 200
    key_id = api_keys.list_keys(customer_user)[-1].id
    api_keys.revoke(customer_user, key_id)
    expire_key(expired)
    _assert_401(client.get("/api/v1/accounts", headers=bearer(revoked)))
    _assert_401(client.get("/api/v1/accounts", headers=bearer(expired)))


def test_a_deactivated_logins_keys_stop_working(client: WebClient, customer_user: User) -> None:
    raw = make_key(customer_user)
    with write_transaction() as s:  # no service deactivates logins yet
        s.get(User, customer_user.id).is_active = False
    _assert_401(client.get("/api/v1/accounts", headers=bearer(raw)))


def test_a_read_key_cannot_create_payments(
    client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    raw = make_key(customer_user, ("read",))
    response = client.post(
        "/api/v1/payments",
        json=payment_body(source, target),
        headers=bearer(raw, **{"Idempotency-Key": "k1"}),
    )
    assert response.status_code == 403
    assert response.json["error"]["code"] == "insufficient_scope"
    assert 'scope="payments:write"' in response.headers["WWW-Authenticate"]


def test_a_write_only_key_cannot_read(client: WebClient, customer_user: User, source: Account):
    raw = make_key(customer_user, ("payments:write",))
    for url in _urls(source):
        response = client.get(url, headers=bearer(raw))
        assert response.status_code == 403, url
        assert response.json["error"]["code"] == "insufficient_scope"


def test_a_staff_key_gets_403_on_a_customers_operations(client: WebClient, admin: User) -> None:
    raw = force_key(admin)
    for url, needs in (
        ("/api/v1/accounts", "own.accounts.read"),
        ("/api/v1/payments", "own.payments.read"),
    ):
        response = client.get(url, headers=bearer(raw))
        assert response.status_code == 403
        assert response.json["error"] == {
            "code": "forbidden",
            "message": f"This call needs the {needs!r} permission.",
        }


def test_another_customers_objects_are_not_found(
    client: WebClient, customer_user: User, other_customer_user: User, target: Account
) -> None:
    other_source = factories.make_account(factories.customer_of(other_customer_user), "EUR", 5000)
    foreign_payment = make_payment(other_customer_user, other_source, to=target)
    raw = make_key(customer_user)
    for url in (
        f"/api/v1/accounts/{target.number}",
        f"/api/v1/accounts/{target.number}/transactions",
        f"/api/v1/payments/{foreign_payment.id}",
        "/api/v1/payments/999999",
        "/api/v1/payments/99999999999999999999",
        "/api/v1/accounts/not-a-number",
    ):
        response = client.get(url, headers=bearer(raw))
        assert response.status_code == 404, url
        assert response.json["error"]["code"] == "not_found"
    listed = client.get("/api/v1/payments", headers=bearer(raw)).json
    assert listed == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    "query",
    ["api_key={key}", "key=abc", "token=abc", "access_token=x", "x={key}", "vk_abc=1", "Key=1"],
)
def test_a_key_in_the_query_string_is_refused(
    client: WebClient, customer_user: User, query: str
) -> None:
    raw = make_key(customer_user)
    for url in ("/api/v1/accounts", "/api/v1/openapi.json"):
        response = client.get(f"{url}?{query.format(key=raw)}", headers=bearer(raw))
        assert response.status_code == 400
        assert response.json["error"]["code"] == "api_key_in_query"
    # Even without the header: the key must never be taken from the URL.
    response = client.get(f"/api/v1/accounts?{query.format(key=raw)}")
    assert response.status_code == 400


def test_a_cookie_session_never_authenticates_an_api_call(
    customer_client: WebClient, source: Account, target: Account
) -> None:
    assert customer_client.get("/settings").status_code == 200  # the session works for pages
    _assert_401(customer_client.get("/api/v1/accounts"))
    response = customer_client.post(
        "/api/v1/payments",
        json=payment_body(source, target),
        headers={"Idempotency-Key": "k", "X-CSRFToken": customer_client.csrf_token()},
    )
    _assert_401(response)


def test_bearer_calls_need_no_csrf_token_but_pages_still_do(
    app: Flask, api: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = api.post(
        "/api/v1/payments",
        json=payment_body(source, target),
        headers={"Idempotency-Key": "no-csrf"},
    )
    assert response.status_code == 201
    # A signed-in cookie session POSTing to a page without the token is still refused.
    api.sign_in(customer_user)
    with app.test_request_context():
        logout = url_for("auth.logout")
    refused = api.post(logout, data={})
    assert refused.status_code == 400
    assert "security token" in refused.text
    assert api.post_form(logout).status_code in (302, 303)


def test_unknown_paths_and_methods_answer_json(api: WebClient) -> None:
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"
    wrong_method = api.delete("/api/v1/accounts")
    assert wrong_method.status_code == 405
    assert wrong_method.json["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_the_document_needs_no_key(client: WebClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json["openapi"] == "3.1.0"
