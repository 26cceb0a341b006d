"""Rate limits: sign-in per client address and per account, the 429 page / partial / JSON,
and Redis as shared storage (two apps, one count)."""

from __future__ import annotations

import uuid

from flask import Flask, jsonify

from tests import factories
from tests.security.conftest import redis_url_or_skip
from tests.sign_in import post_login
from tests.webclient import WebClient, web_client
from vaulta import create_app
from vaulta.extensions import db, limiter
from vaulta.models import User
from vaulta.security.limits import API_LIMIT, by_api_key


def test_login_hammering_gets_a_clear_429_page(app: Flask, client: WebClient) -> None:
    app.config["RATELIMIT_LOGIN"] = "3/minute"
    for n in range(3):
        assert post_login(client, f"nobody{n}@example.test", "wrong password").status_code == 422
    response = post_login(client, "nobody@example.test", "wrong password")
    assert response.status_code == 429
    assert "Too many requests" in response.text  # the page title
    assert "Wait 60 seconds, then try again" in response.text
    assert response.headers["Retry-After"] == "60"
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"]  # an error page is still a page
    # Another address is not affected; the sign-in page itself still opens.
    assert post_login(client, "nobody@example.test", "wrong", address="10.0.0.9").status_code == 422
    assert client.get("/login").status_code == 200


def test_an_htmx_429_lands_in_the_message_area(app: Flask, client: WebClient) -> None:
    app.config["RATELIMIT_LOGIN"] = "1/minute"
    post_login(client, "a@example.test", "wrong password")
    response = client.htmx("POST", "/login", data={"email": "a@example.test", "password": "x"})
    assert response.status_code == 429
    assert response.headers["HX-Retarget"] == "#messages"
    assert "Too many requests" in response.text
    assert "<html" not in response.text


def test_failed_attempts_are_limited_per_account_from_any_address(
    app: Flask, client: WebClient, admin: User
) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "3/minute"
    for n in range(3):
        response = post_login(client, admin.email, "wrong password", address=f"10.0.0.{n}")
        assert response.status_code == 422
    # Even the right password from a fresh address waits now: the account is throttled.
    response = post_login(client, admin.email.upper(), factories.PASSWORD, address="10.0.1.1")
    assert response.status_code == 429
    # Other accounts are not.
    other = factories.make_admin("other-admin@example.test")
    assert (
        post_login(client, other.email, factories.PASSWORD, address="10.0.1.1").status_code == 302
    )


def test_successful_sign_ins_do_not_count_against_the_account(app: Flask, admin: User) -> None:
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2/minute"
    for _ in range(4):
        c = web_client(app)
        assert post_login(c, admin.email, factories.PASSWORD).status_code == 302


def test_the_api_gets_a_json_429(app: Flask) -> None:
    @limiter.limit(API_LIMIT, key_func=by_api_key)
    def throttled_probe():  # type: ignore[no-untyped-def]
        return jsonify(ok=True)

    app.add_url_rule("/api/v1/_throttle-probe", view_func=throttled_probe)
    app.config["RATELIMIT_API"] = "2/minute"
    client = app.test_client()
    headers = {"Authorization": "Bearer vk_abcdefghij_secret"}
    assert client.get("/api/v1/_throttle-probe", headers=headers).status_code == 200
    assert client.get("/api/v1/_throttle-probe", headers=headers).status_code == 200
    response = client.get("/api/v1/_throttle-probe", headers=headers)
    assert response.status_code == 429
    assert response.json == {
        "error": {"code": "rate_limited", "message": response.json["error"]["message"]}
    }
    assert "Wait 60 seconds" in response.json["error"]["message"]
    other_key = {"Authorization": "Bearer vk_zzzzzzzzzz_secret"}
    assert client.get("/api/v1/_throttle-probe", headers=other_key).status_code == 200


def test_in_memory_counts_belong_to_one_app(app: Flask, database_url: str) -> None:
    """The contrast to the Redis test: a second app with memory:// starts from zero."""
    app.config["RATELIMIT_LOGIN"] = "2/minute"
    first = app.test_client()
    for _ in range(2):
        post_login(first, "x@example.test", "wrong password")  # type: ignore[arg-type]
    assert post_login(first, "x@example.test", "wrong password").status_code == 429  # type: ignore[arg-type]
    second = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_LOGIN": "2/minute"}
    )
    second.test_client_class = WebClient
    with second.app_context():
        response = post_login(second.test_client(), "x@example.test", "wrong password")  # type: ignore[arg-type]
        assert response.status_code == 422
        db.session.remove()
        db.engine.dispose()


def test_two_apps_on_one_redis_share_their_counts(database_url: str) -> None:
    """Two app instances (as two gunicorn workers) with the same RATELIMIT_STORAGE_URI.

    Each app opens its own connection to Redis; the second starts after the first has counted,
    and sees its count (with memory:// it would start from zero: see the test above).
    """
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": redis_url_or_skip(),
        "RATELIMIT_LOGIN_ACCOUNT": "3/minute",
    }
    email = f"redis-{uuid.uuid4().hex}@example.test"  # a count no other run shares
    apps: list[Flask] = []

    def new_app() -> Flask:
        a = create_app("testing", settings)
        a.test_client_class = WebClient
        apps.append(a)
        assert type(limiter.storage).__name__ == "RedisStorage"
        return a

    try:
        first = new_app()
        with first.app_context():
            for n in range(2):
                response = post_login(first.test_client(), email, "wrong", address=f"10.1.0.{n}")  # type: ignore[arg-type]
                assert response.status_code == 422
        second = new_app()
        with second.app_context():
            client = second.test_client()
            assert post_login(client, email, "wrong", address="10.1.0.8").status_code == 422  # type: ignore[arg-type]
            assert post_login(client, email, "wrong", address="10.1.0.9").status_code == 429  # type: ignore[arg-type]
    finally:
        for a in apps:
            with a.app_context():
                db.session.remove()
                db.engine.dispose()


def test_payment_requests_and_their_passcode_checks_are_throttled(
    app: Flask, client: WebClient
) -> None:
    """Per signed-in customer: requests at RATELIMIT_PAYMENT, code checks at the passcode limit."""
    user = factories.make_customer_login("payer@example.test")
    account = factories.make_account(factories.customer_of(user), "EUR", 10_000)
    client.sign_in(user)
    app.config["RATELIMIT_PAYMENT"] = "2/minute"
    app.config["RATELIMIT_PASSCODE"] = "2/minute"
    form = {"from_account": account.number, "amount": "x", "reference": "r"}
    statuses = [client.post_form("/payments/new", form).status_code for _ in range(3)]
    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429
    codes = [
        client.post_form("/payments/1/confirm", {"code": "000000"}).status_code for _ in range(3)
    ]
    assert codes[2] == 429


def test_account_number_lookups_of_the_payment_form_are_limited_per_user(
    app: Flask, client: WebClient
) -> None:
    """The live check of "Pay a VAULTA account" says whether an account number exists:
    RATELIMIT_ACCOUNT_LOOKUP per signed-in customer. Checking other fields is no lookup."""
    user = factories.make_customer_login("looker@example.test")
    account = factories.make_account(factories.customer_of(user), "EUR", 10_000)
    client.sign_in(user)
    app.config["RATELIMIT_ACCOUNT_LOOKUP"] = "3/minute"

    def check(name: str, value: str, c: WebClient = client):  # type: ignore[no-untyped-def]
        form = {"from_account": account.number, "amount": "1.00", name: value}
        return c.htmx("POST", f"/payments/validate/{name}", data=form)

    for n in range(3):
        response = check("to_account", f"99999999{n:02d}")
        assert response.status_code == 200
        assert "no open VAULTA account" in response.text
    refused = check("to_account", "9999999904")
    assert refused.status_code == 429
    assert refused.headers["HX-Retarget"] == "#messages"
    assert "Too many requests" in refused.text
    assert check("amount", "12.50").status_code == 200
    assert check("beneficiary_iban", "GB82WEST12345698765432").status_code == 200
    # Another customer (same address) has their own budget.
    other_client = web_client(app)
    other = factories.make_customer_login("other-looker@example.test")
    factories.make_account(factories.customer_of(other), "EUR", 10_000)
    other_client.sign_in(other)
    form = {"from_account": account.number, "to_account": "9999999905"}
    response = other_client.htmx("POST", "/payments/validate/to_account", data=form)
    assert response.status_code == 200
