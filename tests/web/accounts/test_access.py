"""Every accounts route, for anonymous / owner / other customer / teller."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.webclient import WebClient
from vaulta.models import Account, User, utcnow
from vaulta.services.ledger import holds

# (method, path template, expected status per visitor). The customer routes use the
# owner's account number; "other" is another customer asking for it.
ROUTES: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/accounts/{number}", {"owner": 200, "other": 404, "admin": 403}),
    ("GET", "/accounts/{number}/statement", {"owner": 200, "other": 404, "admin": 403}),
    ("GET", "/accounts/{number}/statement.csv", {"owner": 200, "other": 404, "admin": 403}),
    ("GET", "/admin/accounts/{id}", {"owner": 403, "other": 403, "admin": 200}),
    ("GET", "/admin/accounts/{id}/statement", {"owner": 403, "other": 403, "admin": 200}),
    ("GET", "/admin/accounts/{id}/statement.csv", {"owner": 403, "other": 403, "admin": 200}),
    # Admin POSTs without form data: invalid money forms (422) or a status change (302).
    ("POST", "/admin/accounts/{id}/deposit", {"owner": 403, "other": 403, "admin": 422}),
    ("POST", "/admin/accounts/{id}/withdraw", {"owner": 403, "other": 403, "admin": 422}),
    ("POST", "/admin/accounts/{id}/freeze", {"owner": 403, "other": 403, "admin": 302}),
    ("POST", "/admin/accounts/{id}/unfreeze", {"owner": 403, "other": 403, "admin": 302}),
    ("POST", "/admin/accounts/{id}/close", {"owner": 403, "other": 403, "admin": 302}),
    # Hold requests without form data: an invalid form (422); the hold is the account's.
    ("POST", "/admin/accounts/{id}/holds", {"owner": 403, "other": 403, "admin": 422}),
    (
        "POST",
        "/admin/accounts/{id}/holds/{hold}/capture",
        {"owner": 403, "other": 403, "admin": 302},
    ),
    (
        "POST",
        "/admin/accounts/{id}/holds/{hold}/release",
        {"owner": 403, "other": 403, "admin": 302},
    ),
]
VISITORS = ["anonymous", "owner", "other", "admin"]


@pytest.mark.parametrize("who", VISITORS)
@pytest.mark.parametrize(("method", "path", "expected"), ROUTES, ids=[r[1] for r in ROUTES])
def test_access_matrix(
    client: WebClient,
    teller: User,
    customer_user: User,
    other_customer_user: User,
    owned: Account,
    who: str,
    method: str,
    path: str,
    expected: dict[str, int],
) -> None:
    signed_in = {"owner": customer_user, "other": other_customer_user, "admin": teller}
    if who in signed_in:
        client.sign_in(signed_in[who])
    hold_id = 0
    if "{hold}" in path:
        expires_at = utcnow() + timedelta(days=1)
        hold_id = holds.place(owned.id, 100, reason="Walk", expires_at=expires_at, actor=teller)
    url = path.format(number=owned.number, id=owned.id, hold=hold_id)
    response = client.post_form(url) if method == "POST" else client.get(url)
    response.close()
    if who == "anonymous":
        assert response.status_code == 302
        assert response.location.startswith("/login")
    else:
        assert response.status_code == expected[who]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/999999",
        "/admin/accounts/999999/statement",
        "/admin/accounts/999999/statement.csv",
    ],
)
def test_admin_gets_404_for_a_missing_account(teller_client: WebClient, path: str) -> None:
    response = teller_client.get(path)
    response.close()
    assert response.status_code == 404


@pytest.mark.parametrize(
    "action", ["deposit", "withdraw", "freeze", "unfreeze", "close", "holds", "holds/1/release"]
)
def test_admin_posts_to_a_missing_account_are_404(teller_client: WebClient, action: str) -> None:
    assert teller_client.post_form(f"/admin/accounts/999999/{action}").status_code == 404


def test_htmx_load_more_of_a_foreign_account_is_404(
    client: WebClient, other_customer_user: User, owned: Account
) -> None:
    client.sign_in(other_customer_user)
    response = client.htmx("GET", f"/accounts/{owned.number}/statement?before_id=999")
    assert response.status_code == 404
    assert owned.number not in response.get_data(as_text=True)


def test_system_account_is_not_a_customer_page(customer_client: WebClient, owned: Account) -> None:
    from vaulta.services.banking.accounts import system_account

    response = customer_client.get(f"/accounts/{system_account('EUR').number}")
    assert response.status_code == 404


def test_posts_without_csrf_token_are_refused(teller_client: WebClient, owned: Account) -> None:
    for action in ("deposit", "withdraw", "freeze", "holds"):
        response = teller_client.post(
            f"/admin/accounts/{owned.id}/{action}",
            data={f"{action}-amount": "1.00", f"{action}-description": "x"},
        )
        assert response.status_code == 400
