"""Standing-order pages: a customer sets one up (htmx and plain), sees and changes only
their own; a teller sets one up on a customer's behalf; the customer page lists them."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, StandingOrder, User
from vaulta.services.standing_orders import queries

TODAY = date.today()


def _fields(source: Account, target: Account, **changes: str) -> dict[str, str]:
    return {
        "from_account": source.number,
        "to_account": target.number,
        "amount": "25.00",
        "reference": "Rent",
        "frequency": "monthly",
        "first_date": TODAY.isoformat(),
        "end_date": "",
        "max_runs": "",
        **changes,
    }


def _orders() -> list[StandingOrder]:
    return list(db.session.scalars(sa.select(StandingOrder).order_by(StandingOrder.id)))


def test_a_customer_sets_one_up_and_finds_it_in_the_list(
    customer_client: WebClient, source: Account, target: Account
) -> None:
    assert "New standing order" in customer_client.get("/payments/standing-orders").text
    form = customer_client.get("/payments/standing-orders/new")
    assert form.status_code == 200
    assert 'name="first_date"' in form.text
    response = customer_client.post_form(
        "/payments/standing-orders/new", _fields(source, target, max_runs="12")
    )
    assert response.status_code == 302
    [order] = _orders()
    assert response.location == f"/payments/standing-orders/{order.id}"
    assert (order.amount_minor, order.max_runs, order.next_due_date) == (2_500, 12, TODAY)
    page = customer_client.get(response.location).text
    assert "No runs yet." in page
    assert target.number in customer_client.get("/payments/standing-orders").text


def test_htmx_shows_the_fields_errors_in_place(
    customer_client: WebClient, source: Account, target: Account
) -> None:
    past = (TODAY - timedelta(days=1)).isoformat()
    response = customer_client.htmx(
        "POST", "/payments/standing-orders/new", data=_fields(source, target, first_date=past)
    )
    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form")
    assert "cannot be in the past" in response.text
    response = customer_client.htmx(
        "POST", "/payments/standing-orders/new", data=_fields(source, target, to_account="0")
    )
    assert response.status_code == 422
    assert "no open VAULTA account" in response.text
    assert _orders() == []


def test_pause_resume_cancel_swap_the_order_in_place(
    customer_client: WebClient, source: Account, target: Account
) -> None:
    customer_client.post_form("/payments/standing-orders/new", _fields(source, target))
    [order] = _orders()
    url = f"/payments/standing-orders/{order.id}"
    paused = customer_client.htmx("POST", f"{url}/pause")
    assert paused.status_code == 200
    assert paused.text.lstrip().startswith('<section id="standing-order"')
    assert queries.get(order.id).status == "paused"
    assert "Resume" in paused.text
    customer_client.htmx("POST", f"{url}/resume")
    assert customer_client.htmx("POST", f"{url}/pause").status_code == 200
    assert customer_client.htmx("POST", f"{url}/cancel").status_code == 200
    db.session.expire_all()
    assert queries.get(order.id).status == "cancelled"
    assert customer_client.htmx("POST", f"{url}/cancel").status_code == 409
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "standing_order")
    ).all()
    assert actions[-1] == "standing_order.cancel"


def test_another_customers_order_is_404(
    customer_client: WebClient,
    client: WebClient,
    source: Account,
    target: Account,
    other_customer_user: User,
) -> None:
    customer_client.post_form("/payments/standing-orders/new", _fields(source, target))
    [order] = _orders()
    client.sign_in(other_customer_user)
    assert client.get(f"/payments/standing-orders/{order.id}").status_code == 404
    assert client.post_form(f"/payments/standing-orders/{order.id}/cancel").status_code == 404
    assert queries.get(order.id).status == "active"


def test_a_teller_sets_one_up_for_the_customer_and_the_customer_page_lists_it(
    teller_client: WebClient, source: Account, target: Account, customer_user: User
) -> None:
    customer_id = source.customer_id
    page = teller_client.get(f"/admin/customers/{customer_id}").text
    assert "No standing orders." in page
    url = f"/admin/customers/{customer_id}/standing-orders/new"
    response = teller_client.post_form(url, _fields(source, target, frequency="weekly"))
    assert response.status_code == 302, response.text
    [order] = _orders()
    assert (order.customer_id, order.created_by_id) == (customer_id, order.created_by_id)
    assert order.created_by_id != customer_user.id
    assert response.location == f"/admin/standing-orders/{order.id}"
    assert (
        f"/admin/standing-orders/{order.id}"
        in teller_client.get(f"/admin/customers/{customer_id}").text
    )
    assert teller_client.post_form(f"/admin/standing-orders/{order.id}/pause").status_code == 200
    assert queries.get(order.id).status == "paused"


def test_a_teller_cannot_use_another_customers_account(
    teller_client: WebClient, source: Account, target: Account
) -> None:
    url = f"/admin/customers/{target.customer_id}/standing-orders/new"
    response = teller_client.post_form(url, _fields(source, target))
    assert response.status_code == 422
    assert _orders() == []
