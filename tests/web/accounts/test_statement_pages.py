"""Statement pages with running balance, htmx "Load more", CSV export and query counts."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from tests import factories
from tests.helpers import sql_statements
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, User
from vaulta.services import ledger
from vaulta.services.banking import accounts

ROW = re.compile(r"<tr>\s*<td>")


def post_deposits(account: Account, teller: User, count: int, start: int = 1) -> None:
    for n in range(start, start + count):
        ledger.deposit(account, 100 * n, actor=teller, description=f"Deposit {n}")


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_load_more_walks_back_with_running_balance(
    app: Flask,
    client: WebClient,
    teller: User,
    customer_user: User,
    owned: Account,
    who: str,
) -> None:
    app.config["PAGE_SIZE"] = 3
    post_deposits(owned, teller, 4)  # 100.00 funding + 1.00 + 2.00 + 3.00 + 4.00
    client.sign_in(customer_user if who == "owner" else teller)
    base = f"/accounts/{owned.number}" if who == "owner" else f"/admin/accounts/{owned.id}"
    html = client.get(base).get_data(as_text=True)
    assert len(ROW.findall(html)) == 3
    assert "Deposit 4" in html
    assert "110.00 EUR" in html  # balance after the newest
    assert "Deposit 1" not in html
    more = re.search(r'hx-get="([^"]+)" hx-target="closest tr" hx-swap="outerHTML"', html)
    assert more is not None
    more_url = more.group(1).replace("&amp;", "&")
    assert f'<a href="{more.group(1)}"' in html  # also a plain link without JS
    partial = client.htmx("GET", more_url)
    rows = partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert "HX-Request" in partial.headers["Vary"]
    assert "<html" not in rows
    assert len(ROW.findall(rows)) == 2
    assert "Deposit 1" in rows
    assert "Funding" in rows
    assert "101.00 EUR" in rows  # running balance after Deposit 1
    assert "hx-get" not in rows  # the last page has no "Load more"
    full = client.get(more_url)
    assert "<html" in full.get_data(as_text=True)
    assert "Back to the newest" in full.get_data(as_text=True)


def test_running_balance_both_directions_and_reversal(
    customer_client: WebClient, teller: User, customer_user: User, owned: Account
) -> None:
    other = factories.make_account(factories.make_customer(), "EUR", 5_000)
    sent = ledger.transfer(owned, other, 2_500, actor=teller, description="To friend")
    ledger.transfer(other, owned, 1_000, actor=teller, description="From friend")
    ledger.reverse(sent.id, actor=teller, reason="Mistake")
    html = customer_client.get(f"/accounts/{owned.number}").get_data(as_text=True)
    cells = re.findall(r'<td class="num"><span class="money[^"]*">([^<]+)</span>', html)
    # Newest first: (amount, balance) per row.
    assert list(zip(cells[::2], cells[1::2], strict=True)) == [
        ("25.00 EUR", "110.00 EUR"),
        ("10.00 EUR", "85.00 EUR"),
        ("-25.00 EUR", "75.00 EUR"),
        ("100.00 EUR", "100.00 EUR"),
    ]
    assert other.number in html


def test_customer_index_links_to_statements(customer_client: WebClient, owned: Account) -> None:
    html = customer_client.get("/").get_data(as_text=True)
    assert f'href="/accounts/{owned.number}"' in html


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_csv_export_is_streamed_in_order(
    client: WebClient, teller: User, customer_user: User, owned: Account, who: str
) -> None:
    ledger.withdraw(owned, 1_234, actor=teller, description="=cmd()")
    ledger.deposit(owned, 5, actor=teller, description="Interest", reference="INT-1")
    client.sign_in(customer_user if who == "owner" else teller)
    url = (
        f"/accounts/{owned.number}/statement.csv"
        if who == "owner"
        else f"/admin/accounts/{owned.id}/statement.csv"
    )
    response = client.get(url)
    assert response.is_streamed
    body = response.get_data(as_text=True)
    response.close()
    assert response.mimetype == "text/csv"
    assert f"statement-{owned.number}.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == [
        "date",
        "id",
        "kind",
        "description",
        "reference",
        "counterparty",
        "amount",
        "currency",
        "balance",
        "value_date",
    ]
    assert [(r[2], r[3], r[4], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("deposit", "Funding", "", "100.00", "EUR", "100.00"),
        ("withdrawal", "'=cmd()", "", "-12.34", "EUR", "87.66"),
        ("deposit", "Interest", "INT-1", "0.05", "EUR", "87.71"),
    ]
    assert int(rows[1][1]) < int(rows[2][1]) < int(rows[3][1])
    assert all(r[9] == r[0][:10] for r in rows[1:])  # dated the day they were booked


def test_csv_date_range(teller_client: WebClient, owned: Account) -> None:
    today = datetime.now(UTC).date()
    url = f"/admin/accounts/{owned.id}/statement.csv"
    for query, lines in [
        (f"?from={today}&to={today}", 2),
        (f"?from={today + timedelta(days=1)}", 1),
        (f"?to={today - timedelta(days=1)}", 1),
        ("?from=&to=", 2),
    ]:
        response = teller_client.get(url + query)
        assert len(response.get_data(as_text=True).splitlines()) == lines, query
        response.close()
    bad = teller_client.get(url + "?from=31-01-2025")
    assert bad.status_code == 422
    assert "Give dates like 2025-01-31" in bad.get_data(as_text=True)


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_statement_queries_do_not_grow_with_rows(
    client: WebClient, teller: User, customer_user: User, owned: Account, who: str
) -> None:
    client.sign_in(customer_user if who == "owner" else teller)
    url = f"/accounts/{owned.number}" if who == "owner" else f"/admin/accounts/{owned.id}"
    post_deposits(owned, teller, 4)
    client.get(url)  # both measured requests follow a request and a commit
    db.session.commit()
    with sql_statements() as few:
        html = client.get(url).get_data(as_text=True)
    assert len(ROW.findall(html)) == 5
    post_deposits(owned, teller, 25, start=5)
    client.get(url)
    db.session.commit()
    with sql_statements() as many:
        html = client.get(url).get_data(as_text=True)
    assert len(ROW.findall(html)) == 25
    assert len(many) == len(few)


def page_statements(queries: list[str]) -> list[str]:
    """The statements a request ran besides loading the signed-in user (the holds' query
    names who placed each: it joins users, and counts)."""
    return [
        q
        for q in queries
        if q.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE"))
        and (not re.search(r"\busers\b", q) or re.search(r"\bholds\b", q))
    ]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("owner", 2), ("admin", 1), ("admin-system", 1)],
)
def test_statement_pages_run_a_fixed_number_of_statements(
    client: WebClient,
    teller: User,
    customer_user: User,
    owned: Account,
    who: str,
    expected: int,
) -> None:
    """Owner: the account (the access check), then rows and balance in one statement.
    Admin: account, customer, rows and balance in one statement, first page or older; the
    full page of a customer's account also lists the change requests about it awaiting
    approval (one more statement on the full page; the system account has none), the
    staff pages read the postings (legs) of the page's entries (one more statement, by
    transaction id: a page of entries, never the account's history), and the owner's full
    page also reads the customer's accounts (the conversion form's targets). A customer
    account's full page reads its holds in one more statement (the owner's: the active
    ones); the account's held amount and overdraft limit come with the account."""
    account = accounts.system_account("EUR") if who == "admin-system" else owned
    post_deposits(owned, teller, 30)  # the system account pays for them: both have 30+ rows
    client.sign_in(customer_user if who == "owner" else teller)
    url = f"/accounts/{owned.number}" if who == "owner" else f"/admin/accounts/{account.id}"
    client.get(url)
    with sql_statements() as first:
        html = client.get(url).get_data(as_text=True)
    assert len(ROW.findall(html)) == 25
    more = re.search(r'hx-get="([^"]+)" hx-target="closest tr"', html)
    assert more is not None
    with sql_statements() as older:
        rows = client.htmx("GET", more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert len(ROW.findall(rows)) >= 5
    pending_requests = 1 if who == "admin" else 0
    legs = 0 if who == "owner" else 1
    conversion_targets = 1 if who == "owner" else 0  # the owner's other accounts (FX form)
    holds = 0 if who == "admin-system" else 1
    full_page = expected + pending_requests + legs + conversion_targets + holds
    assert len(page_statements(first)) == full_page, page_statements(first)
    assert len(page_statements(older)) == expected + legs, page_statements(older)
    if who == "admin":
        customer = factories.customer_of(customer_user)
        assert customer.full_name in html
        assert customer.customer_number in html
        assert 'id="deposit-form"' in html
    if who == "admin-system":
        assert "bank system account" in html
        assert 'id="deposit-form"' not in html
