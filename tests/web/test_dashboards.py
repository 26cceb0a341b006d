"""The dashboards over HTTP: each chart is an SVG with its table of the same figures, the
payments window is 30 or 90 days, staff who read the bank see them (not admins), and a
customer sees charts of their own accounts only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.statement_support import deposit_on, open_account_on, withdraw_on
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import User, WebhookEndpoint, utcnow
from vaulta.services.webhooks import endpoints

STAFF_FIGURES = (
    "payments-status",
    "payments-currency",
    "backlog",
    "decisions",
    "inbox-backlog",
    "request-decisions",
    "balances",
    "movements",
)
TODAY = utcnow().date()


def figure(html: str, figure_id: str) -> str:
    match = re.search(rf'<figure class="chart-figure" id="{figure_id}">(.*?)</figure>', html, re.S)
    assert match is not None, f"no figure {figure_id}"
    return match.group(1)


def assert_chart_with_table(html: str, figure_id: str) -> None:
    part = figure(html, figure_id)
    assert f'<svg class="chart" id="{figure_id}-svg"' in part
    assert f'aria-describedby="{figure_id}-table"' in part
    assert f'<table class="striped chart-table" id="{figure_id}-table">' in part
    assert "<script" not in part
    assert "style=" not in part


@pytest.mark.parametrize("days", ["", "30", "90", "7", "x"])
def test_staff_dashboard_has_every_chart(
    auditor_client: WebClient, teller: User, days: str
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    deposit_on(account, TODAY, 123_45, teller, "Big one")
    response = auditor_client.get(f"/admin/?days={days}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for figure_id in STAFF_FIGURES:
        assert_chart_with_table(html, figure_id)
    window = "90" if days == "90" else "30"
    assert f"over {window} days" in html
    assert "123.45 EUR" in figure(html, "movements")  # today's movement, charted and listed
    assert "123.45 EUR" in figure(html, "balances")


def test_customer_sees_charts_of_their_own_accounts(
    customer_client: WebClient, customer_user: User, other_customer_user: User, teller: User
) -> None:
    mine = open_account_on(
        factories.customer_of(customer_user).id, TODAY - timedelta(days=100), teller
    )
    deposit_on(mine, TODAY - timedelta(days=95), 500_00, teller)
    withdraw_on(mine, TODAY - timedelta(days=10), 123_00, teller)
    theirs = factories.make_account(factories.customer_of(other_customer_user), "USD", 7_00)
    html = customer_client.get("/").get_data(as_text=True)
    assert_chart_with_table(html, f"balance-{mine.number}")
    assert_chart_with_table(html, f"flows-{mine.number}")
    assert theirs.number not in html
    balances = figure(html, f"balance-{mine.number}")
    assert balances.count("<tr><td>") == 90
    assert f'<tr><td>{TODAY.isoformat()}</td><td class="num">' in balances
    assert "377.00 EUR" in balances
    assert "500.00 EUR" in balances
    flows = figure(html, f"flows-{mine.number}")
    assert "123.00 EUR" in flows  # out, in its month


def test_customers_get_no_staff_dashboard(customer_client: WebClient) -> None:
    assert customer_client.get("/admin/?days=90").status_code == 403


@pytest.mark.parametrize("role", ["teller", "approver", "auditor", "admin"])
def test_the_dashboard_per_role(
    client: WebClient, role: str, request: pytest.FixtureRequest
) -> None:
    """Roles that read the bank (ledger.read) see its figures; admins run the system and
    see their roles and links only."""
    client.sign_in(request.getfixturevalue(role))
    html = client.get("/admin/").get_data(as_text=True)
    reads = role != "admin"
    assert ('id="payments-status"' in html) is reads
    assert ("Transactions today" in html) is reads
    assert f'href="/admin/roles#role-{role}"' in html


def test_the_transactions_counter_counts_today(auditor_client: WebClient, teller: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    deposit_on(account, TODAY - timedelta(days=1), 1_00, teller, "Yesterday")
    deposit_on(account, TODAY, 2_00, teller, "Today")
    deposit_on(account, TODAY, 3_00, teller, "Today again")
    html = auditor_client.get("/admin/").get_data(as_text=True)
    counter = re.search(r'<header>Transactions today</header><p class="stat">(\d+)</p>', html)
    assert counter is not None
    assert counter.group(1) == "2"


def test_staff_dashboard_shows_failing_webhooks_once_there_are_endpoints(
    admin_client: WebClient, admin: User
) -> None:
    assert 'id="integration-health"' not in admin_client.get("/admin/").get_data(as_text=True)
    made = endpoints.create_endpoint(actor=admin, url="http://127.0.0.1:9/h", event_types=["*"])
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert 'id="integration-health"' in page
    assert "Every endpoint is answering." in page
    db.session.execute(
        sa.update(WebhookEndpoint)
        .where(WebhookEndpoint.public_id == made.endpoint.public_id)
        .values(
            failing_since=utcnow() - timedelta(hours=5),
            enabled=False,
            disabled_reason="<b>down</b>",
        )
    )
    db.session.commit()
    page = admin_client.get("/admin/").get_data(as_text=True)
    assert made.endpoint.public_id in page
    assert "disabled: &lt;b&gt;down&lt;/b&gt;" in page
