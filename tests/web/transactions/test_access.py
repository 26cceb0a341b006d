"""Who may open the transactions and audit pages: anonymous, customers and admins."""

from __future__ import annotations

import pytest

from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.models import User

# (method, path template, status for an admin)
ROUTES = [
    ("GET", "/admin/transactions/", 200),
    ("GET", "/admin/transactions/export.csv", 200),
    ("GET", "/admin/transactions/{tx_id}", 200),
    ("POST", "/admin/transactions/{tx_id}/reverse", 302),
    ("GET", "/admin/audit", 200),
]
WHO = ["anonymous", "customer", "other customer", "admin"]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "admin_status"), ROUTES)
def test_access_matrix(
    client: WebClient,
    book: Book,
    admin: User,
    customer_user: User,
    other_customer_user: User,
    who: str,
    method: str,
    path: str,
    admin_status: int,
) -> None:
    users = {"customer": customer_user, "other customer": other_customer_user, "admin": admin}
    if who in users:
        client.sign_in(users[who])
    url = path.format(tx_id=book.transfer.id)
    if method == "POST":
        response = client.post_form(url, {"reason": "Access check"})
    else:
        response = client.get(url)
    response.close()
    if who == "anonymous":
        assert response.status_code == 302
        assert response.location.startswith("/login")
    elif who == "admin":
        assert response.status_code == admin_status
    else:
        assert response.status_code == 403


def test_the_navigation_shows_transactions_and_audit_log(admin_client: WebClient) -> None:
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/transactions/"' in html
    assert 'href="/admin/audit"' in html
