"""Walk ``app.url_map``: every route x anonymous / customer / other customer / admin.

Each endpoint is classified below; a new route that is not classified fails the
completeness test, so nothing is added without deciding who may reach it.
"""

from __future__ import annotations

import pytest
from flask import Flask, current_app, url_for
from werkzeug.routing import Rule

from tests.access.conftest import World
from tests.webclient import WebClient

# Who may reach an endpoint (expected statuses per role are derived from the class).
PUBLIC = "public"  # anyone
ADMIN = "admin"  # admins only: anonymous -> login, customers -> 403
OWNER = "owner"  # a customer's own object: another customer -> 404, admins -> 403
OWNER_OR_STAFF = "owner_or_staff"  # the owner and admins; another customer -> 404
CUSTOMER = "customer"  # any customer, nothing of another's involved; admins -> 403
SIGNED_IN = "signed_in"  # any signed-in user
HOME = "home"  # the start page: customers see it, admins are sent to their dashboard
API = "api"  # bearer API keys only: a browser session is never enough (401)
OWN_KEY = "own_key"  # the user's own API key: anyone else's is a 404, admins' included
PENDING = "pending"  # the second-factor step: without a pending sign-in, back to /login
ADMIN_API = "admin_api"  # admins' JSON (session): anonymous -> 401, customers -> 403

ACCESS: dict[str, str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.request_password_reset": PUBLIC,
    "auth.confirm_password_reset": PUBLIC,
    "health.healthz": PUBLIC,
    "dev.outbox": PUBLIC,  # development/testing only (404 in production; tested there)
    "api.openapi_document": PUBLIC,
    "auth.second_factor": PENDING,
    "auth.resend_login_code": PENDING,
    "auth.logout": SIGNED_IN,
    "auth.email_codes": SIGNED_IN,
    "auth.start_email_codes": SIGNED_IN,  # admins: refused by the service (always on)
    "auth.confirm_email_codes": SIGNED_IN,
    "auth.disable_email_codes": SIGNED_IN,
    "auth.totp_setup": SIGNED_IN,
    "auth.start_totp": SIGNED_IN,
    "auth.confirm_totp": SIGNED_IN,
    "auth.disable_totp": SIGNED_IN,
    "auth.regenerate_recovery_codes": SIGNED_IN,
    "auth.settings": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.sign_out_everywhere": SIGNED_IN,
    "auth.create_api_key": SIGNED_IN,  # admins: refused by the service (no admin API)
    "auth.revoke_api_key": OWN_KEY,
    "accounts.index": HOME,
    "accounts.statement": OWNER,
    "accounts.statement_rows": OWNER,
    "accounts.statement_csv": OWNER,
    "accounts.statement_xlsx": OWNER,
    "accounts.statement_pdf": OWNER_OR_STAFF,
    "accounts.statement_documents": OWNER_OR_STAFF,
    "accounts.monthly_statement_pdf": OWNER_OR_STAFF,
    "payments.index": CUSTOMER,
    "payments.new": CUSTOMER,
    "payments.validate": CUSTOMER,
    "payments.detail": OWNER,
    "payments.confirm": OWNER,
    "payments.resend": OWNER,
    "payments.cancel": OWNER,
    "api.list_accounts": API,
    "api.get_account": API,
    "api.list_transactions": API,
    "api.create_payment": API,
    "api.get_payment": API,
    "api.list_payments": API,
}
ADMIN_BLUEPRINTS = ("admin.", "customers.", "transactions.", "approvals.", "ops.", "webhooks.")
ADMIN_ENDPOINTS = (
    "accounts.admin_detail",
    "accounts.admin_statement",
    "accounts.admin_statement_csv",
    "accounts.admin_statement_xlsx",
    "accounts.change_status",
    "accounts.move_money",
)
ROLES = ("anonymous", "other", "customer", "admin")
ALLOWED_POST = {200, 204, 302, 303, 409, 422}
# Pages that send a signed-in visitor on when there is nothing to do there: /login when
# already signed in, authenticator set-up before it was started, a payment's confirmation
# once it no longer awaits a code, a queue row's reason form without htmx (the queue with
# the form open).
MAY_REDIRECT = {"auth.login", "auth.totp_setup", "payments.confirm", "approvals.reject_form"}


def access_of(endpoint: str) -> str:
    if endpoint in ACCESS:
        return ACCESS[endpoint]
    if endpoint.startswith(ADMIN_BLUEPRINTS) or endpoint in ADMIN_ENDPOINTS:
        return ADMIN
    if endpoint.startswith("webhooks_api."):
        return ADMIN_API
    raise KeyError(endpoint)


def endpoints(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


def test_every_route_is_classified(app: Flask) -> None:
    unclassified = []
    for endpoint in endpoints(app):
        try:
            access_of(endpoint)
        except KeyError:
            unclassified.append(endpoint)
    assert unclassified == [], "classify these routes in ACCESS"


def expected(access: str, role: str) -> set[int] | str:
    """The statuses a role may get, or "ok" (reached the view)."""
    if access == PUBLIC:
        return "ok"
    if access == API:
        return {401}
    if access == ADMIN_API:
        return {"anonymous": {401}, "customer": {403}, "other": {403}, "admin": "ok"}[role]
    if role == "anonymous" or access == PENDING:
        return {302}
    table = {
        ADMIN: {"admin": "ok", "customer": {403}, "other": {403}},
        OWNER: {"admin": {403}, "customer": "ok", "other": {404}},
        OWNER_OR_STAFF: {"admin": "ok", "customer": "ok", "other": {404}},
        CUSTOMER: {"admin": {403}, "customer": "ok", "other": "ok"},
        SIGNED_IN: {"admin": "ok", "customer": "ok", "other": "ok"},
        HOME: {"admin": {302}, "customer": "ok", "other": "ok"},
        OWN_KEY: {"admin": {404}, "customer": "ok", "other": {404}},
    }
    return table[access][role]


def url_for_rule(rule: Rule, world: World) -> str:
    values: dict[str, object] = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if hasattr(converter, "items"):  # an any(...) converter: the first choice
            values[argument] = sorted(converter.items)[0]
            continue
        values[argument] = {
            "account_id": world.account.id,
            "number": world.account.number,
            "payment_id": world.payment_id,
            "tx_id": world.transaction_id,
            "customer_id": world.account.customer_id,
            "key_id": world.key_id,
            "public_id": world.webhook_endpoint_id,
            "delivery_id": world.webhook_delivery_id,
            "filename": "app.css",
            "month": world.past_month,
        }[argument]
    if rule.endpoint == "accounts.statement_pdf":
        values |= {"from": world.past_month + "-01", "to": world.past_month + "-28"}
    with current_app.test_request_context():
        return url_for(rule.endpoint, **values)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "endpoint" in metafunc.fixturenames:
        from vaulta import create_app

        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
        metafunc.parametrize("endpoint", [e for e in endpoints(app) if e != "static"])


def test_route_answers_each_role_as_classified(
    app: Flask, client: WebClient, world: World, endpoint: str
) -> None:
    access = access_of(endpoint)
    for rule in app.url_map.iter_rules(endpoint):
        url = url_for_rule(rule, world)
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        method = "GET" if "GET" in methods else "POST" if "POST" in methods else min(methods)
        for role in ROLES:
            client.delete_cookie("session")
            user = world.user(role)
            if user is not None:
                client.sign_in(user)
            if method in ("GET", "POST"):
                response = client.get(url) if method == "GET" else client.post_form(url, {})
            else:  # PATCH, DELETE: JSON routes, the token in the header as htmx sends it
                response = client.open(
                    url, method=method, headers={"X-CSRFToken": client.csrf_token()}
                )
            response.close()
            # Security headers on every answer, whatever its status.
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            still_signed_in = endpoint not in ("auth.logout", "auth.sign_out_everywhere")
            if user is not None and still_signed_in and access != API:
                assert "no-store" in response.headers.get("Cache-Control", ""), url
            want = expected(access, role)
            got = response.status_code
            where = f"{method} {url} as {role}"
            if want == "ok":
                ok = {200} if method == "GET" else ALLOWED_POST
                if endpoint in MAY_REDIRECT:
                    ok = ok | {302}
                if endpoint in ("auth.logout", "auth.sign_out_everywhere"):
                    ok = {302}
                assert got in ok, f"{where}: {got}"
            else:
                assert got in want, f"{where}: {got}, expected {want}"
            if role == "anonymous" and got == 302 and access != ADMIN_API:
                assert response.location.startswith("/login"), where
