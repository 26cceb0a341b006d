"""Value dates on the statement pages and documents: the staff page lists each entry's
postings, a PDF's opening and closing balances are the as-of balances with a backdated
entry in the period, and a kept monthly statement stays as first issued."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.statement_support import at, backdating_closed, backdating_open, day_after, pdf_pages
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, User, utcnow
from vaulta.models.base import clock_set_to
from vaulta.money import format_amount
from vaulta.services import ledger
from vaulta.services.banking import accounts
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger import value_dates
from vaulta.services.ledger.balances import balance_as_of
from vaulta.services.reports import statement_archive

TODAY = utcnow().date()


def test_the_staff_page_lists_each_entrys_postings(
    teller_client: WebClient, teller: User, owned: Account
) -> None:
    day = TODAY - timedelta(days=2)
    ledger.deposit(owned, 4_321, actor=teller, description="Backdated", value_date=day)
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    system = accounts.system_account("EUR")
    assert html.count('<details class="legs">') == 2  # the funding and the backdated deposit
    assert f'{system.number}</span> · <span class="money negative">-43.21 EUR' in html
    assert f'{owned.number}</span> · <span class="money">43.21 EUR' in html
    assert f"value date {day.isoformat()}" in html
    assert f"<td>{day.isoformat()}</td>" in html  # the entry's value date column


def test_the_customer_page_shows_value_dates_but_no_legs(
    customer_client: WebClient, teller: User, owned: Account
) -> None:
    day = TODAY - timedelta(days=1)
    ledger.withdraw(owned, 1_00, actor=teller, description="Fee", value_date=day)
    html = customer_client.get(f"/accounts/{owned.number}").get_data(as_text=True)
    assert f"<td>{day.isoformat()}</td>" in html
    assert "Postings of entry" not in html


def test_a_pdf_with_a_backdated_entry_opens_and_closes_on_the_as_of_balances(
    customer_client: WebClient, teller: User, owned: Account
) -> None:
    date_from, date_to = TODAY - timedelta(days=4), TODAY - timedelta(days=2)
    ledger.deposit(owned, 2_500, actor=teller, description="Late salary", value_date=date_to)
    ledger.withdraw(owned, 700, actor=teller, description="Today's rent")
    response = customer_client.get(
        f"/accounts/{owned.number}/statement.pdf?from={date_from}&to={date_to}"
    )
    assert response.status_code == 200
    text = "\n".join(pdf_pages(response.data))
    opening = balance_as_of(owned.id, at(date_from, 0))
    closing = balance_as_of(owned.id, at(day_after(date_to), 0))
    assert (opening, closing) == (0, 2_500)  # the funding is dated today, after the period
    assert f"Opening balance {format_amount(opening, 'EUR')}" in text
    assert f"Closing balance {format_amount(closing, 'EUR')}" in text
    assert "Late salary" in text
    assert "Today's rent" not in text
    assert f"({TODAY.isoformat()})" in text  # booked today, under its value date


def test_a_kept_monthly_statement_is_downloaded_again_identically(
    customer_client: WebClient, teller: User, owned: Account
) -> None:
    """While entries may still be dated into last month its statement is provisional (an
    entry backdated into it shows at the next download); once the window has closed the
    statement is kept, and later entries do not change the archived document."""
    last_month = statement_archive.month_start(TODAY.replace(day=1) - timedelta(days=1))
    owned.opened_at = at(last_month, 8)  # test data: opened last month
    db.session.commit()
    url = f"/accounts/{owned.number}/statements/{last_month.isoformat()[:7]}.pdf"
    inside = statement_archive.last_day(last_month)
    with clock_set_to(backdating_open(last_month)):
        provisional = customer_client.get(url)
        ledger.deposit(owned, 1_00, actor=teller, description="Backdated", value_date=inside)
        updated = customer_client.get(url)
    assert "Backdated" not in "\n".join(pdf_pages(provisional.data))
    assert "Backdated" in "\n".join(pdf_pages(updated.data))
    assert "ETag" not in updated.headers
    with clock_set_to(backdating_closed(last_month)):
        first = customer_client.get(url)
        with pytest.raises(InvalidInput, match="more than 5 days"):  # what staff are held to
            value_dates.check_value_date(inside, today=utcnow().date(), backdate_days=5)
        ledger.deposit(owned, 2_00, actor=teller, description="Later")
        again = customer_client.get(url)
    assert first.status_code == 200
    assert "Backdated" in "\n".join(pdf_pages(first.data))
    assert "Provisional" not in "\n".join(pdf_pages(first.data))
    assert again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert customer_client.get(url).data == first.data  # today as well
