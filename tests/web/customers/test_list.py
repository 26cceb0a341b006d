"""The customers list: live search (htmx partial vs full page), keyset paging, query count."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask import Flask
from markupsafe import escape

from tests import factories
from tests.helpers import sql_statements
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Customer, User
from vaulta.services.banking import customers

URL = "/admin/customers/"
# Markup, and an attribute break-out that htmx would run on load with the page's CSRF header.
HOSTILE = ["<img src=x onerror=alert(1)>", '" hx-post="/x" hx-trigger="load']


@pytest.fixture
def people(app: Flask, teller: User) -> None:
    for name, email, phone in [
        ("Ann Lee", "ann@example.com", "+44 20 7946 1234"),
        ("Bob Annison", "bob@example.org", None),
        ("Cy Young", None, "020 555 0199"),
    ]:
        customers.create_customer(full_name=name, email=email, phone=phone, actor=teller)


def test_full_page_has_the_live_search_input(teller_client: WebClient, people: None) -> None:
    response = teller_client.get(URL)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" in html
    assert 'hx-get="/admin/customers/"' in html
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert 'hx-target="#customer-results"' in html
    assert 'hx-push-url="true"' in html
    assert all(name in html for name in ("Ann Lee", "Bob Annison", "Cy Young"))
    assert "New customer" in html


def test_plain_get_with_query_renders_filtered_page(teller_client: WebClient, people: None) -> None:
    html = teller_client.get(URL + "?q=ann").get_data(as_text=True)
    assert "<html" in html
    assert 'value="ann"' in html
    assert "Ann Lee" in html
    assert "Bob Annison" in html
    assert "Cy Young" not in html


def test_htmx_search_returns_the_table_partial(teller_client: WebClient, people: None) -> None:
    response = teller_client.htmx("GET", URL + "?q=young")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html
    assert "<table" in html
    assert "Cy Young" in html
    assert "Ann Lee" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_search_with_no_match_says_so(teller_client: WebClient, people: None) -> None:
    html = teller_client.htmx("GET", URL + "?q=zzz").get_data(as_text=True)
    assert "No customer matches" in html


@pytest.mark.parametrize(
    "header", ["HX-Boosted", "HX-History-Restore-Request"], ids=["boosted", "history-restore"]
)
def test_boosted_and_history_restore_requests_get_the_full_page(
    teller_client: WebClient, people: None, header: str
) -> None:
    response = teller_client.htmx("GET", URL + "?q=ann", headers={header: "true"})
    html = response.get_data(as_text=True)
    assert "<html" in html
    assert 'value="ann"' in html
    assert "Bob Annison" in html
    assert "HX-Request" in response.headers["Vary"]


def _next_link(html: str) -> str | None:
    match = re.search(r'<a href="([^"]+)"[^>]*rel="next"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_next_page_links_walk_every_customer_once(
    app: Flask, teller_client: WebClient, teller: User, htmx: bool
) -> None:
    app.config["PAGE_SIZE"] = 2
    for name in ["Sam Same", "Sam Same", "Sam Same", "Amy Sam", "Zoe", "Sam Same"]:
        customers.create_customer(full_name=name, actor=teller)
    url: str | None = URL + "?q=sam"
    seen: list[str] = []
    while url:
        response = teller_client.htmx("GET", url) if htmx else teller_client.get(url)
        html = response.get_data(as_text=True)
        assert ("<html" in html) is not htmx
        seen.extend(re.findall(r'href="/admin/customers/(\d+)"', html))
        next_url = _next_link(html)
        if next_url:
            assert "q=sam" in next_url
            assert "after_name=Sam" in next_url
            assert "after_id=" in next_url
            assert 'hx-push-url="true"' in html
        url = next_url
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert "First page" in html  # the last page links back to the first


def test_list_page_queries_do_not_grow_with_the_rows_shown(
    teller_client: WebClient, teller: User
) -> None:
    def list_page_statements(expected_rows: int) -> int:
        with sql_statements() as statements:
            html = teller_client.get(URL).get_data(as_text=True)
        assert len(re.findall(r'href="/admin/customers/\d+"', html)) == expected_rows
        return len(statements)

    for _ in range(5):
        factories.make_account(factories.make_customer())
    five = list_page_statements(5)
    for _ in range(20):
        factories.make_account(factories.make_customer())
    assert list_page_statements(25) == five


def test_customer_list_escapes_what_people_typed(teller_client: WebClient, teller: User) -> None:
    """Every text column is escaped (the status column holds one of a fixed list of words,
    checked by the database)."""
    customer = customers.create_customer(
        full_name="<i>name</i> & 'co'", email='"<i>mail</i>"@example.com', actor=teller
    )
    db.session.execute(
        sa.update(Customer)
        .where(Customer.id == customer.id)
        .values(phone="<i>phone</i>", customer_number="<i>no</i>")
    )
    db.session.commit()
    for response in (teller_client.get(URL), teller_client.htmx("GET", URL)):
        html = response.get_data(as_text=True)
        assert not re.search("<i>|<I>", html)
        assert "&lt;i&gt;name&lt;/i&gt; &amp; &#39;co&#39;" in html
        assert "&#34;&lt;i&gt;mail&lt;/i&gt;&#34;@example.com" in html
        for text in ("phone", "no"):
            assert f"&lt;i&gt;{text}&lt;/i&gt;" in html, text
        assert f'href="/admin/customers/{customer.id}"' in html


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_name_is_shown_as_text(
    teller_client: WebClient, teller: User, hostile: str
) -> None:
    customers.create_customer(full_name=f"Eve {hostile}", email="eve@example.com", actor=teller)
    pages = [
        teller_client.get(URL),
        teller_client.htmx("GET", URL),
        teller_client.get(URL, query_string={"q": hostile}),  # also in the search box
        teller_client.htmx("GET", URL, query_string={"q": "Eve"}),
    ]
    for page in pages:
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert hostile not in html
        assert "<img" not in html
        assert 'hx-post="/x"' not in html
        assert f"Eve {escape(hostile)}" in html
