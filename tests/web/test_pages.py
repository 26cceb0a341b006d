"""Landing pages, access rules and error pages (full and htmx partial)."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests import factories
from tests.webclient import WebClient
from vaulta.models import User
from vaulta.services import ledger

ROUTES = ["/", "/admin/"]


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("anonymous", "/", 302),
        ("anonymous", "/admin/", 302),
        ("customer", "/", 200),
        ("customer", "/admin/", 403),
        ("admin", "/", 302),
        ("admin", "/admin/", 200),
    ],
)
def test_access_matrix(
    client: WebClient, admin: User, customer_user: User, who: str, path: str, status: int
) -> None:
    if who != "anonymous":
        client.sign_in(admin if who == "admin" else customer_user)
    response = client.get(path)
    assert response.status_code == status
    if who == "anonymous":
        assert response.location.startswith("/login")


def test_customer_sees_only_their_own_accounts(
    client: WebClient, admin: User, customer_user: User, other_customer_user: User
) -> None:
    mine = factories.make_account(factories.customer_of(customer_user), "EUR")
    theirs = factories.make_account(factories.customer_of(other_customer_user), "USD")
    ledger.deposit(mine, 123_456, actor=admin, description="Salary")
    ledger.deposit(theirs, 999_999, actor=admin, description="Secret")
    client.sign_in(customer_user)
    html = client.get("/").get_data(as_text=True)
    assert mine.number in html
    assert "1,234.56 EUR" in html
    assert theirs.number not in html
    assert "9,999.99" not in html


def test_the_dashboard_shows_figures_to_readers_and_not_to_admins(
    teller_client: WebClient, teller: User, admin: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    ledger.deposit(account, 5_000, actor=teller, description="Opening deposit")
    html = teller_client.get("/admin/").get_data(as_text=True)
    assert "Opening deposit" in html
    assert "50.00 EUR" in html
    assert 'href="/admin/roles#role-teller">teller</a>' in html
    teller_client.sign_in(admin)  # runs the system, reads no customer's money
    html = teller_client.get("/admin/").get_data(as_text=True)
    assert "Opening deposit" not in html
    assert 'href="/admin/staff"' in html


def test_pages_carry_the_csrf_header_for_htmx_and_vendored_assets(admin_client: WebClient) -> None:
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in html
    assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
    assert "/static/vendor/pico-2.1.1/pico.min.css" in html
    assert "https://" not in html  # no CDN


def test_vendored_htmx_is_version_2(client: WebClient) -> None:
    response = client.get("/static/vendor/htmx-2.0.11/htmx.min.js")
    js = response.get_data(as_text=True)
    response.close()
    assert 'version:"2.0.11"' in js.replace(" ", "")


@pytest.mark.parametrize(("who", "path"), [("anonymous", "/login"), ("customer", "/")])
def test_every_page_has_an_icon_and_favicon_ico_exists(
    client: WebClient, customer_user: User, who: str, path: str
) -> None:
    """Browsers ask for /favicon.ico (or the page's icon link) on every page: never a 404."""
    if who == "customer":
        client.sign_in(customer_user)
    ico = client.get("/favicon.ico")
    assert (ico.status_code, ico.mimetype) == (200, "image/vnd.microsoft.icon")
    assert ico.data.startswith(b"\x00\x00\x01\x00")  # an ICO header
    ico.close()
    link = re.search(r'<link rel="icon" href="([^"]+)"', client.get(path).get_data(as_text=True))
    assert link is not None
    svg = client.get(link[1])
    svg.close()
    assert (svg.status_code, svg.mimetype) == (200, "image/svg+xml")


def test_404_page_and_partial(client: WebClient) -> None:
    full = client.get("/no/such/page")
    assert full.status_code == 404
    assert "<html" in full.get_data(as_text=True)
    partial = client.htmx("GET", "/no/such/page")
    assert partial.status_code == 404
    assert "<html" not in partial.get_data(as_text=True)
    assert partial.headers["HX-Retarget"] == "#messages"
    assert partial.mimetype == "text/html"
    assert "HX-Request" in partial.headers["Vary"]


def test_403_page_and_partial(customer_client: WebClient) -> None:
    assert "Not allowed" in customer_client.get("/admin/").get_data(as_text=True)
    partial = customer_client.htmx("GET", "/admin/")
    assert partial.status_code == 403
    assert "<html" not in partial.get_data(as_text=True)


def test_500_shows_no_traceback(app: Flask, client: WebClient) -> None:
    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in html
    assert "Traceback" not in html
    assert "Nothing was changed" in html


def test_pages_show_only_the_controls_the_role_may_use(
    client: WebClient, teller: User, approver: User, auditor: User, customer_user: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR", 10_000)
    tx = ledger.deposit(account, 500, actor=teller, description="Counter")
    pages = {
        f"/admin/accounts/{account.id}": ('id="deposit-form"', "Close account"),
        f"/admin/customers/{account.customer_id}": ("Open account", "Suspend"),
        "/admin/customers/": ("New customer",),
        f"/admin/transactions/{tx.id}": (f"/admin/transactions/{tx.id}/reverse",),
    }
    for user, shown in ((teller, True), (approver, False), (auditor, False)):
        client.sign_in(user)
        for url, controls in pages.items():
            html = client.get(url).get_data(as_text=True)
            for control in controls:
                assert (control in html) is shown, f"{control} on {url} for {user.email}"


def test_only_deciders_get_the_queues_decision_controls(
    client: WebClient, teller: User, approver: User
) -> None:
    for user, shown in ((approver, True), (teller, False)):
        client.sign_in(user)
        html = client.get("/admin/approvals/").get_data(as_text=True)
        assert ('id="bulk-form"' in html) is shown
