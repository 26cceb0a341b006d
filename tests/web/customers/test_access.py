"""Every customers route by anonymous / customer / other customer / teller, and 404s."""

from __future__ import annotations

import pytest

from tests import factories
from tests.webclient import WebClient
from vaulta.models import User

# (method, path template, form data, admin's status)
ROUTES = [
    ("GET", "/admin/customers/", None, 200),
    ("GET", "/admin/customers/?q=dana", None, 200),
    ("GET", "/admin/customers/new", None, 200),
    ("POST", "/admin/customers/new", {"full_name": "New Person"}, 302),
    ("GET", "/admin/customers/{id}", None, 200),
    ("GET", "/admin/customers/{id}/edit", None, 200),
    ("POST", "/admin/customers/{id}/edit", {"full_name": "Renamed"}, 302),
    ("POST", "/admin/customers/{id}/suspend", {}, 302),
    ("POST", "/admin/customers/{id}/reactivate", {}, 302),
    ("POST", "/admin/customers/{id}/close", {}, 302),
    ("POST", "/admin/customers/{id}/accounts", {"currency": "EUR"}, 302),
]
WHO = ["anonymous", "customer", "other_customer", "admin"]


def _send(client: WebClient, method: str, path: str, data: dict[str, str] | None):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(path)
    return client.post_form(path, data)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "template", "data", "admin_status"), ROUTES)
def test_access_matrix(
    client: WebClient,
    teller: User,
    customer_user: User,
    other_customer_user: User,
    who: str,
    method: str,
    template: str,
    data: dict[str, str] | None,
    admin_status: int,
) -> None:
    # The target is the signed-in customer's own record: still an admin-only page.
    target = factories.customer_of(customer_user)
    path = template.format(id=target.id)
    users = {"customer": customer_user, "other_customer": other_customer_user, "admin": teller}
    if who != "anonymous":
        client.sign_in(users[who])
    response = _send(client, method, path, data)
    if who == "anonymous":
        assert response.status_code == 302
        assert response.location.startswith("/login")
    elif who == "admin":
        assert response.status_code == admin_status
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "template", "data", "admin_status"), [r for r in ROUTES if "{id}" in r[1]]
)
def test_unknown_customer_is_404(
    teller_client: WebClient,
    method: str,
    template: str,
    data: dict[str, str] | None,
    admin_status: int,
) -> None:
    response = _send(teller_client, method, template.format(id=987_654), data)
    assert response.status_code == 404
    assert "No such customer" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "template", "data", "admin_status"), [r for r in ROUTES if r[0] == "POST"]
)
def test_post_without_csrf_token_is_refused(
    teller_client: WebClient,
    teller: User,
    method: str,
    template: str,
    data: dict[str, str] | None,
    admin_status: int,
) -> None:
    customer = factories.make_customer("Csrf Target")
    path = template.format(id=customer.id)
    plain = teller_client.post(path, data=data)
    assert plain.status_code == 400
    assert "security token" in plain.get_data(as_text=True)
    htmx = teller_client.post(path, data=data, headers={"HX-Request": "true"})
    assert htmx.status_code == 400
