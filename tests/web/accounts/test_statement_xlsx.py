"""The statement as XLSX, for its owner and for staff who read accounts: the CSV's rows as
real cells."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.webclient import WebClient
from tests.xlsx import read_xlsx
from vaulta.models import Account, User
from vaulta.services import ledger


@pytest.mark.parametrize("who", ["owner", "auditor"])
def test_statement_xlsx_in_order_with_running_balance(
    client: WebClient, teller: User, auditor: User, customer_user: User, owned: Account, who: str
) -> None:
    ledger.withdraw(owned, 1_234, actor=teller, description="=cmd()")
    ledger.deposit(owned, 5, actor=teller, description="Interest", reference="INT-1")
    client.sign_in(customer_user if who == "owner" else auditor)
    url = (
        f"/accounts/{owned.number}/statement.xlsx"
        if who == "owner"
        else f"/admin/accounts/{owned.id}/statement.xlsx"
    )
    rows, sheet = read_xlsx(client, url)
    assert rows[0] == [
        "date (UTC)",
        "id",
        "kind",
        "description",
        "reference",
        "counterparty",
        "amount",
        "currency",
        "balance",
        "value date",
    ]
    assert [(r[2], r[3], r[4], r[6], r[7], r[8]) for r in rows[1:]] == [
        ("deposit", "Funding", None, 100.0, "EUR", 100.0),
        ("withdrawal", "'=cmd()", None, -12.34, "EUR", 87.66),
        ("deposit", "Interest", "INT-1", 0.05, "EUR", 87.71),
    ]
    assert all(isinstance(r[0], datetime) and isinstance(r[1], int) for r in rows[1:])
    assert all(r[9] == datetime.combine(r[0].date(), datetime.min.time()) for r in rows[1:])
    assert sheet.cell(row=3, column=7).number_format == "#,##0.00"


def test_statement_xlsx_date_range_and_links(auditor_client: WebClient, owned: Account) -> None:
    today = datetime.now(UTC).date()
    url = f"/admin/accounts/{owned.id}/statement.xlsx"
    rows, _ = read_xlsx(auditor_client, f"{url}?from={today}&to={today}")
    assert len(rows) == 2
    rows, _ = read_xlsx(auditor_client, f"{url}?from={today + timedelta(days=1)}")
    assert len(rows) == 1
    bad = auditor_client.get(f"{url}?from=31-01-2025")
    assert bad.status_code == 422
    html = auditor_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert f'formaction="/admin/accounts/{owned.id}/statement.xlsx"' in html


def test_another_customers_statement_xlsx_is_404(
    client: WebClient, other_customer_user: User, owned: Account
) -> None:
    client.sign_in(other_customer_user)
    response = client.get(f"/accounts/{owned.number}/statement.xlsx")
    response.close()
    assert response.status_code == 404
