"""Walk ``app.url_map``: every route x anonymous / customer / other customer / each staff
role (admin, approver, teller, auditor).

Each endpoint is classified below; a new route that is not classified fails the
completeness test, so nothing is added without deciding who may reach it. Staff routes list
the staff roles that may use them (``STAFF``), written out here rather than derived from the
code, and the permission their guard names.
"""

from __future__ import annotations

import pytest
from flask import Flask, current_app, url_for
from werkzeug.routing import Rule

from tests.access.conftest import World
from tests.webclient import WebClient
from vaulta.inbox.rows import maker_permissions
from vaulta.services.identity.permissions import ROLE_PERMISSIONS

# Who may reach an endpoint (expected statuses per role are derived from the class).
PUBLIC = "public"  # anyone
ADMIN = "staff"  # back office: the roles in STAFF; anonymous -> login, everyone else -> 403
OWNER = "owner"  # a customer's own object: another customer -> 404, staff -> 403
OWNER_OR_STAFF = "owner_or_staff"  # the owner and staff who read accounts; another customer -> 404
CUSTOMER = "customer"  # any customer, nothing of another's involved; staff -> 403
SIGNED_IN = "signed_in"  # any signed-in user
HOME = "home"  # the start page: customers see it, staff are sent to their dashboard
API = "api"  # bearer API keys only: a browser session is never enough (401)
OWN_KEY = "own_key"  # the user's own API key: anyone else's is a 404, staff's included
PENDING = "pending"  # the second-factor step: without a pending sign-in, back to /login
ADMIN_API = "admin_api"  # admins' JSON (session): anonymous -> 401, customers -> 403
# Prometheus' scrape: a bearer token or an allowed network, never a session; off (404) when
# neither is configured, as here (tests/ops/test_metrics.py tests the token and networks).
METRICS = "metrics"
# A background export (the world's belongs to the auditor, who may export): anyone else,
# staff or customer, gets 404.
OWN_EXPORT = "own_export"

ACCESS: dict[str, str] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.request_password_reset": PUBLIC,
    "auth.confirm_password_reset": PUBLIC,
    "health.healthz": PUBLIC,
    "health.metrics": METRICS,
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
    "auth.create_api_key": SIGNED_IN,  # staff: refused by the service (create-api-key)
    "auth.revoke_api_key": OWN_KEY,
    "accounts.index": HOME,
    "accounts.statement": OWNER,
    "accounts.statement_rows": OWNER,
    "accounts.statement_csv": OWNER,
    "accounts.statement_xlsx": OWNER,
    "accounts.statement_pdf": OWNER_OR_STAFF,
    "accounts.statement_documents": OWNER_OR_STAFF,
    "accounts.monthly_statement_pdf": OWNER_OR_STAFF,
    "accounts.conversion_quote": OWNER,
    "accounts.convert": OWNER,
    "payments.index": CUSTOMER,
    "customer_payfiles.index": CUSTOMER,
    "customer_payfiles.new": OWNER,  # the account in the URL: another customer's is 404
    "customer_payfiles.preview": OWNER,
    "customer_payfiles.submit": OWNER,
    "customer_payfiles.batch": OWNER,  # the customer's own upload: another's is 404
    "payments.new": CUSTOMER,
    "payments.validate": CUSTOMER,
    "payments.detail": OWNER,
    "payments.confirm": OWNER,
    "payments.resend": OWNER,
    "payments.cancel": OWNER,
    "standing_orders.index": CUSTOMER,
    "standing_orders.new": CUSTOMER,
    "standing_orders.detail": OWNER,
    "standing_orders.change": OWNER,
    "api.list_standing_orders": API,
    "api.get_standing_order": API,
    "api.create_standing_order": API,
    "api.pause_standing_order": API,
    "api.resume_standing_order": API,
    "api.cancel_standing_order": API,
    "api.list_accounts": API,
    "api.get_account": API,
    "api.list_transactions": API,
    "api.get_balance": API,
    "api.create_payment": API,
    "api.get_payment": API,
    "api.list_payments": API,
    "api.me": API,
    "exports.status": OWN_EXPORT,
    "exports.download": OWN_EXPORT,
    "api.list_change_requests": API,
    "api.get_change_request": API,
    "api.approve_change_request": API,
    "api.reject_change_request": API,
    "api.request_deposit": API,
    "api.request_withdrawal": API,
    "api.request_overdraft_limit": API,
    "api.request_debit_block": API,
    "api.request_credit_block": API,
    "api.request_unblock": API,
    "api.request_daily_limit": API,
    "api.create_fx_quote": API,
    "api.create_conversion": API,
    "api.list_holds": API,
    "api.request_hold": API,
    "api.request_capture": API,
    "api.request_release": API,
}
ALL_STAFF = {"admin", "approver", "teller", "auditor"}
READERS = {"approver", "teller", "auditor"}  # the bank's customers, accounts, ledger, payments
# Staff endpoint -> (the permission its guard names, the staff roles that may use it).
STAFF: dict[str, tuple[str | tuple[str, ...], set[str]]] = {
    "admin.index": ("staff.dashboard", ALL_STAFF),
    "admin.roles": ("roles.read", ALL_STAFF),
    "admin.staff": ("users.read", {"admin", "auditor"}),
    "admin.grant_role": ("roles.manage", {"admin"}),
    "admin.revoke_role": ("roles.manage", {"admin"}),
    "admin.request_staff_key": ("api_keys.manage", {"admin"}),
    "admin.policies_index": ("policies.manage", {"admin"}),
    "admin.policy": ("policies.manage", {"admin"}),
    "admin.audit": ("audit.read", {"auditor"}),
    "admin.fx_rates": ("fx.read", READERS),
    "admin.audit_events": ("audit.export", {"auditor"}),
    "admin.audit_export": ("audit.export", {"auditor"}),
    "ops.system": ("system.read", {"admin", "auditor"}),
    "customers.index": ("customers.read", READERS),
    "customers.detail": ("customers.read", READERS),
    "customers.new": ("customers.manage", {"teller"}),
    "customers.edit": ("customers.manage", {"teller"}),
    "customers.suspend": ("customers.manage", {"teller"}),
    "customers.reactivate": ("customers.manage", {"teller"}),
    "customers.close": ("customers.manage", {"teller"}),
    "customers.daily_limit": ("customers.manage", {"teller"}),
    "customers.open_account": ("accounts.manage", {"teller"}),
    "customers.new_payment": ("payments.request", {"teller"}),
    "accounts.admin_detail": ("accounts.read", READERS),
    "accounts.admin_statement": ("accounts.read", READERS),
    "accounts.admin_statement_csv": ("accounts.read", READERS),
    "accounts.admin_statement_xlsx": ("accounts.read", READERS),
    "accounts.change_status": ("accounts.manage", {"teller"}),
    "accounts.overdraft_limit": ("accounts.manage", {"teller"}),
    "accounts.move_money": (("ledger.deposit.request", "ledger.withdrawal.request"), {"teller"}),
    "accounts.place_hold": ("ledger.hold.place.request", {"teller"}),
    "accounts.capture_hold": ("ledger.hold.capture.request", {"teller"}),
    "accounts.release_hold": ("ledger.hold.release.request", {"teller"}),
    "transactions.search": ("ledger.read", READERS),
    "transactions.detail": ("ledger.read", READERS),
    "transactions.export": ("ledger.export", {"auditor"}),
    "transactions.export_xlsx": ("ledger.export", {"auditor"}),
    "transactions.reverse": ("ledger.reversal.request", {"teller"}),
    "standing_orders.staff_new": ("payments.request", {"teller"}),
    "standing_orders.staff_detail": ("payments.read", READERS),
    "standing_orders.staff_change": ("payments.request", {"teller"}),
    "approvals.index": ("payments.read", READERS),
    "approvals.count": ("payments.read", READERS),
    "approvals.reject_form": ("requests.decide", {"approver"}),
    "approvals.approve": ("requests.decide", {"approver"}),
    "approvals.reject": ("requests.decide", {"approver"}),
    "approvals.bulk": ("requests.decide", {"approver"}),
    "webhooks.index": ("webhooks.read", {"admin", "auditor"}),
    "webhooks.detail": ("webhooks.read", {"admin", "auditor"}),
    "webhooks.create": ("webhooks.manage", {"admin"}),
    "webhooks.edit": ("webhooks.manage", {"admin"}),
    "webhooks.rotate": ("webhooks.manage", {"admin"}),
    "webhooks.replay_since": ("webhooks.manage", {"admin"}),
    "webhooks.replay_one": ("webhooks.manage", {"admin"}),
    "webhooks.send_test": ("webhooks.manage", {"admin"}),
    "webhooks.delete": ("webhooks.manage", {"admin"}),
    "inbox.index": ("requests.decide", {"approver"}),
    "inbox.count": ("requests.decide", {"approver"}),
    "inbox.bulk": ("requests.decide", {"approver"}),
    "inbox.approve": ("requests.decide", {"approver"}),
    "inbox.send_code": ("requests.decide", {"approver"}),
    "inbox.reject_form": ("requests.decide", {"approver"}),
    "inbox.reject": ("requests.decide", {"approver"}),
    # Every staff role passes the guard; the view or the service then checks the object.
    "payfiles.new": ("payments.request", {"teller"}),
    "payfiles.preview": ("payments.request", {"teller"}),
    "payfiles.submit": ("payments.request", {"teller"}),
    "payfiles.batch": ("payments.read", READERS),
    "inbox.detail": ("staff.dashboard", ALL_STAFF),
    "inbox.mine": ("staff.dashboard", ALL_STAFF),
    "inbox.export": ("requests.decide", {"approver"}),
    "inbox.export_mine": ("staff.dashboard", ALL_STAFF),
    "inbox.cancel": ("staff.dashboard", ALL_STAFF),
}


def object_refused(endpoint: str) -> set[str]:
    """Staff roles that pass an endpoint's guard but not its check of the object (403):
    the world's change request is the teller's (tests/access/conftest.py)."""
    if endpoint == "inbox.detail":  # its maker, deciders and the bank's readers
        return {r for r in ALL_STAFF if not ROLE_PERMISSIONS[r] & set(DETAIL_READERS)}
    if endpoint in ("inbox.mine", "inbox.export_mine"):  # makers: any action's maker permission
        return {r for r in ALL_STAFF if not ROLE_PERMISSIONS[r] & maker_permissions()}
    if endpoint == "inbox.cancel":  # only the maker cancels
        return ALL_STAFF - {"teller"}
    return set()


DETAIL_READERS = ("requests.decide", "customers.read", "ledger.read", "audit.read")
ADMIN_BLUEPRINTS = (
    "admin.",
    "customers.",
    "transactions.",
    "approvals.",
    "inbox.",
    "payfiles.",
    "ops.",
    "webhooks.",
)
ROLES = ("anonymous", "other", "customer", "admin", "approver", "teller", "auditor")
ALLOWED_POST = {200, 204, 302, 303, 409, 422}
# Pages that send a signed-in visitor on when there is nothing to do there: /login when
# already signed in, authenticator set-up before it was started, a payment's confirmation
# once it no longer awaits a code, a queue row's reason form without htmx (the queue with
# the form open).
MAY_REDIRECT = {
    "auth.login",
    "auth.totp_setup",
    "payments.confirm",
    "approvals.reject_form",
    "inbox.reject_form",
}


def access_of(endpoint: str) -> str:
    if endpoint in ACCESS:
        return ACCESS[endpoint]
    if endpoint in STAFF:
        return ADMIN
    if endpoint.startswith("webhooks_api."):
        return ADMIN_API
    raise KeyError(endpoint)


def first_role_for(endpoint: str) -> str:
    """A staff role that may use a staff endpoint (the walks sign in as it): the teller when
    it may (its pages show the most forms), else the first by name."""
    roles = STAFF[endpoint][1]
    return "teller" if "teller" in roles else sorted(roles)[0]


def endpoints(app: Flask) -> list[str]:
    return sorted({rule.endpoint for rule in app.url_map.iter_rules()})


def test_every_route_is_classified(app: Flask) -> None:
    unclassified = []
    for endpoint in endpoints(app):
        try:
            access_of(endpoint)
        except KeyError:
            unclassified.append(endpoint)
    assert unclassified == [], "classify these routes in ACCESS or STAFF"
    back_office = {e for e in endpoints(app) if e.startswith(ADMIN_BLUEPRINTS)}
    assert back_office <= set(STAFF), "every back-office route lists its staff roles"


def test_every_staff_route_names_its_permission(app: Flask) -> None:
    for endpoint, (permission, roles) in STAFF.items():
        view = app.view_functions[endpoint]
        assert view.required_permission == permission, endpoint
        names = permission if isinstance(permission, tuple) else (permission,)
        # The roles written here are exactly those the registry grants the permission to.
        holders = {r for r in ALL_STAFF if set(names) <= ROLE_PERMISSIONS[r]}
        assert holders == roles, endpoint


def expected(access: str, role: str, endpoint: str = "") -> set[int] | str:
    """The statuses a role may get, or "ok" (reached the view)."""
    if access == PUBLIC:
        return "ok"
    if access == API:
        return {401}
    if access == METRICS:
        return {404}
    if access == ADMIN_API:
        return {"anonymous": {401}, "admin": "ok"}.get(role, {403})  # webhooks.manage
    if role == "anonymous" or access == PENDING:
        return {302}
    if access == ADMIN:
        allowed = STAFF[endpoint][1] - object_refused(endpoint)
        return "ok" if role in allowed else {403}
    if access == OWN_EXPORT:
        return "ok" if role == "auditor" else {404}
    if access == OWNER_OR_STAFF and role in ALL_STAFF:
        return "ok" if role in READERS else {403}  # accounts.read
    who = "staff" if role in ALL_STAFF else role
    table = {
        OWNER: {"staff": {403}, "customer": "ok", "other": {404}},
        OWNER_OR_STAFF: {"customer": "ok", "other": {404}},
        CUSTOMER: {"staff": {403}, "customer": "ok", "other": "ok"},
        SIGNED_IN: {"staff": "ok", "customer": "ok", "other": "ok"},
        HOME: {"staff": {302}, "customer": "ok", "other": "ok"},
        OWN_KEY: {"staff": {404}, "customer": "ok", "other": {404}},
    }
    return table[access][who]


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
            "job_id": world.export_job_id,
            "request_id": world.request_id,
            "batch_id": world.batch_id,
            "order_id": world.standing_order_id,
            "hold_id": world.hold_id,
            "user_id": world.teller.id,
            "name": "default",
            "customer_number": "C00000001",
        }[argument]
    if rule.endpoint == "customer_payfiles.batch":
        values["batch_id"] = world.customer_batch_id
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
            want = expected(access, role, endpoint)
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
