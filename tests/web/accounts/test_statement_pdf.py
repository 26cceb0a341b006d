"""PDF statements over HTTP: balances read back from the PDF's text, page numbers over many
pages, who may download, bad dates, monthly statements provisional while entries may still
be dated into their month and kept as first issued after that."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.statement_support import (
    as_of,
    backdating_closed,
    backdating_open,
    day_after,
    deposit_on,
    many_deposits,
    open_account_on,
    pdf_pages,
    withdraw_on,
)
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, MonthlyStatement, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.money import format_amount
from vaulta.services import maintenance
from vaulta.services.reports import statement_archive

TODAY = utcnow().date()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)


@pytest.fixture
def history(app: Flask, customer_user: User, teller: User) -> Account:
    """The customer's account, opened two months ago, with entries before, in and after
    last month."""
    customer_id = factories.customer_of(customer_user).id
    account = open_account_on(customer_id, LAST_MONTH - timedelta(days=20), teller)
    deposit_on(account, LAST_MONTH - timedelta(days=10), 100_000, teller, "Salary")
    withdraw_on(account, LAST_MONTH + timedelta(days=2), 12_345, teller, "Rent")
    deposit_on(account, LAST_MONTH + timedelta(days=14), 5_000, teller, "Refund")
    withdraw_on(account, THIS_MONTH, 700, teller, "Coffee")
    return account


def pdf_url(account: Account, date_from: object, date_to: object) -> str:
    return f"/accounts/{account.number}/statement.pdf?from={date_from}&to={date_to}"


def month_url(account: Account, month: str) -> str:
    return f"/accounts/{account.number}/statements/{month}.pdf"


def test_pdf_balances_are_the_ledgers(customer_client: WebClient, history: Account) -> None:
    date_from, date_to = LAST_MONTH, statement_archive.last_day(LAST_MONTH)
    response = customer_client.get(pdf_url(history, date_from, date_to))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = "\n".join(pdf_pages(response.data))
    opening = format_amount(as_of(history, date_from), "EUR")
    closing = format_amount(as_of(history, day_after(date_to)), "EUR")
    assert opening == "1,000.00 EUR"
    assert closing == "926.55 EUR"
    assert f"Opening balance {opening}" in text
    assert f"Closing balance {closing}" in text
    assert f"Total in {format_amount(5_000, 'EUR')}" in text
    assert f"Total out {format_amount(12_345, 'EUR')}" in text
    assert "Rent" in text
    assert "Refund" in text
    assert "Salary" not in text
    assert "Coffee" not in text
    assert history.number in text
    assert "Cust" in text
    assert f"Period {date_from.isoformat()} to {date_to.isoformat()}" in text
    assert "Page 1 of 1" in text


def test_a_thousand_entries_make_numbered_pages(
    customer_client: WebClient, customer_user: User, teller: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR")
    many_deposits(account, 1000, teller, TODAY)
    response = customer_client.get(pdf_url(account, TODAY, TODAY))
    assert response.status_code == 200
    pages = pdf_pages(response.data)
    count = len(pages)
    assert count >= 10
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {count}" in text
        assert "Amount" in text
        assert "Balance" in text
    text = "\n".join(pages)
    total = sum(100 + n for n in range(1000))
    assert "Opening balance 0.00 EUR" in pages[0]
    assert f"Closing balance {format_amount(total, 'EUR')}" in pages[-1]
    assert "Deposit 0 " in text
    assert "Deposit 999 " in text
    assert "Entries 1000" in pages[-1]


def test_who_may_download(
    client: WebClient, history: Account, admin: User, auditor: User, other_customer_user: User
) -> None:
    url = pdf_url(history, LAST_MONTH, TODAY)
    assert client.get(url).status_code == 302  # anonymous: to the sign-in page
    client.sign_in(other_customer_user)
    assert client.get(url).status_code == 404
    assert client.get(month_url(history, LAST_MONTH.isoformat()[:7])).status_code == 404
    client.sign_in(admin)  # runs the system: reads no accounts
    assert client.get(url).status_code == 403
    client.sign_in(auditor)
    response = client.get(url)
    assert response.status_code == 200
    assert "Opening balance 1,000.00 EUR" in pdf_pages(response.data)[0]
    assert (
        client.get(pdf_url(history, TODAY, TODAY).replace(history.number, "0000000000")).status_code
        == 404
    )


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?from=2025-01-01",
        "?to=2025-01-01",
        "?from=2025-13-01&to=2025-12-31",
        "?from=yesterday&to=2025-01-02",
        "?from=2025-02-01&to=2025-01-31",
        "?from=2020-01-01&to=2025-01-31",
    ],
)
def test_bad_dates_are_a_400(customer_client: WebClient, history: Account, query: str) -> None:
    response = customer_client.get(f"/accounts/{history.number}/statement.pdf{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_a_month_open_to_backdating_is_provisional_and_not_kept(
    client: WebClient, customer_user: User, history: Account
) -> None:
    client.sign_in(customer_user)
    month = LAST_MONTH.isoformat()[:7]
    closes = statement_archive.window_closes(LAST_MONTH).isoformat()
    with clock_set_to(backdating_open(LAST_MONTH)):
        part = client.htmx("GET", f"/accounts/{history.number}/statements").get_data(as_text=True)
        assert f"provisional until {closes}" in part
        response = client.get(month_url(history, month))
        again = client.get(month_url(history, month))
    assert response.status_code == 200
    assert "ETag" not in response.headers
    assert f"{month}-provisional.pdf" in response.headers["Content-Disposition"]
    text = " ".join("\n".join(pdf_pages(response.data)).split())
    assert f"Provisional statement. Entries may still be dated into this month until {closes}" in (
        text
    )
    assert f"Closing balance {format_amount(as_of(history, THIS_MONTH), 'EUR')}" in text
    assert again.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyStatement)) == 0
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "statement.issued")
    ).all()


def test_monthly_statement_is_kept_as_first_issued(
    client: WebClient, customer_user: User, teller: User, history: Account
) -> None:
    client.sign_in(customer_user)
    documents = f"/accounts/{history.number}/statements"
    page = client.get(f"/accounts/{history.number}").get_data(as_text=True)
    assert f'hx-get="{documents}"' in page  # the account page loads the list
    month = LAST_MONTH.isoformat()[:7]
    with clock_set_to(backdating_closed(LAST_MONTH)):
        part = client.htmx("GET", documents).get_data(as_text=True)
        first = client.get(month_url(history, month))
    assert "<html" not in part
    assert month_url(history, month) in part
    assert "issued on first download" in part
    assert "provisional" not in part
    assert first.status_code == 200
    digest = hashlib.sha256(first.data).hexdigest()
    assert first.headers["ETag"] == f'"{digest}"'
    text = "\n".join(pdf_pages(first.data))
    assert "Provisional" not in text
    assert f"Opening balance {format_amount(as_of(history, LAST_MONTH), 'EUR')}" in text
    closing = as_of(history, THIS_MONTH)
    assert f"Closing balance {format_amount(closing, 'EUR')}" in text

    kept = db.session.scalars(sa.select(MonthlyStatement)).one()
    assert (kept.account_id, kept.month, kept.sha256) == (history.id, LAST_MONTH, digest)
    assert kept.size_bytes == len(first.data)
    issued = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "statement.issued")
    ).one()
    assert issued.actor_id == customer_user.id
    assert issued.details["sha256"] == digest

    again = client.get(month_url(history, month))
    assert again.data == first.data
    client.sign_in(teller)
    assert client.get(month_url(history, month)).data == first.data
    page = client.get(f"/admin/accounts/{history.id}").get_data(as_text=True)
    assert f'hx-get="{documents}"' in page
    page = client.get(documents).get_data(as_text=True)  # the page without JS
    assert month_url(history, month) in page
    assert digest[:16] in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyStatement)) == 1


@pytest.mark.parametrize("which", ["current", "before_opening", "2025-1", "2025-00", "soon"])
def test_no_statement_for_other_months(
    customer_client: WebClient, history: Account, which: str
) -> None:
    month = {
        "current": THIS_MONTH.isoformat()[:7],
        "before_opening": (LAST_MONTH - timedelta(days=60)).isoformat()[:7],
    }.get(which, which)
    assert customer_client.get(month_url(history, month)).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyStatement)) == 0


def test_during_maintenance_a_month_is_served_but_not_kept(
    customer_client: WebClient, history: Account
) -> None:
    maintenance.turn_on(db.engine, "Statement test", "tests")
    response = customer_client.get(month_url(history, LAST_MONTH.isoformat()[:7]))
    assert response.status_code == 200
    assert "ETag" not in response.headers
    assert "Closing balance" in "\n".join(pdf_pages(response.data))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonthlyStatement)) == 0


def test_a_hostile_description_is_printed_as_text(
    customer_client: WebClient, customer_user: User, teller: User
) -> None:
    account = factories.make_account(factories.customer_of(customer_user), "EUR")
    hostile = '<img src="file:///etc/passwd"> </td></tr><style>@page{size:1mm}</style>'
    deposit_on(account, TODAY, 1_00, teller, hostile[:200])
    response = customer_client.get(pdf_url(account, TODAY, TODAY))
    assert response.status_code == 200
    text = " ".join(" ".join(pdf_pages(response.data)).split())
    assert '<img src="file:///etc/passwd">' in text
    assert "<style>@page{size:1mm}</style>" in text
    assert "root:" not in text
