"""Who may open the transactions and audit pages: anonymous, customers and each staff role."""

from __future__ import annotations

import pytest

from tests import factories
from tests.web.transactions.conftest import Book
from tests.webclient import WebClient
from vaulta.models import User

STAFF = ("admin", "teller", "approver", "auditor")
# (method, path template, {staff role: status}); staff roles not named get 403.
ROUTES = [
    ("GET", "/admin/transactions/", {"teller": 200, "approver": 200, "auditor": 200}),
    ("GET", "/admin/transactions/export.csv", {"auditor": 200}),
    ("GET", "/admin/transactions/{tx_id}", {"teller": 200, "approver": 200, "auditor": 200}),
    ("POST", "/admin/transactions/{tx_id}/reverse", {"teller": 302}),
    ("GET", "/admin/audit", {"auditor": 200}),
]
WHO = ["anonymous", "customer", "other customer", *STAFF]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "staff_status"), ROUTES)
def test_access_matrix(
    client: WebClient,
    book: Book,
    customer_user: User,
    other_customer_user: User,
    who: str,
    method: str,
    path: str,
    staff_status: dict[str, int],
) -> None:
    users = {"customer": customer_user, "other customer": other_customer_user}
    if who in STAFF:
        users[who] = factories.make_staff(f"walk-{who}@example.test", who)
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
    else:
        assert response.status_code == staff_status.get(who, 403)


def test_the_navigation_shows_what_the_role_may_open(
    teller_client: WebClient, auditor_client: WebClient, teller: User, auditor: User
) -> None:
    teller_client.sign_in(teller)
    html = teller_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/transactions/"' in html
    assert 'href="/admin/audit"' not in html
    auditor_client.sign_in(auditor)
    html = auditor_client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/transactions/"' in html
    assert 'href="/admin/audit"' in html
