"""Creating and editing customers: change requests (a flash linking the request; the change
once another person approves), 422 with messages in place."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.change_steps import approve, request_id_in
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import AuditEvent, Customer, User
from vaulta.services.banking import customer_queries, customers

NEW = "/admin/customers/new"


def test_create_asks_and_the_customer_exists_once_approved(
    teller_client: WebClient, teller: User, approver: User
) -> None:
    response = teller_client.post_form(
        NEW,
        {"full_name": "Erin Example", "email": "Erin@Example.com", "phone": "+1 555 0100"},
    )
    assert response.status_code == 302
    assert response.location == "/admin/customers/"
    request_id = request_id_in(teller_client.get(response.location).get_data(as_text=True))
    assert count_rows(Customer) == 0
    request = approve(request_id, approver)
    customer = db.session.scalar(sa.select(Customer).where(Customer.full_name == "Erin Example"))
    assert customer is not None
    assert customer.email == "erin@example.com"
    assert request.target_id == customer.id
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "customer.create"))
    assert event is not None
    assert event.actor_id == teller.id


def test_create_with_htmx_answers_with_hx_redirect(teller_client: WebClient) -> None:
    response = teller_client.htmx("POST", NEW, data={"full_name": "Hana Htmx"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/admin/customers/"


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"full_name": ""}, "Enter the customer&#39;s full name."),
        ({"full_name": "Ann", "email": "nope"}, "Enter an email address like name@example.com."),
        ({"full_name": "Ann", "phone": "call me"}, "Enter a phone number with digits"),
        ({"full_name": "A" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_create_with_invalid_input_is_422_with_the_message_in_place(
    teller_client: WebClient, htmx: bool, data: dict[str, str], message: str
) -> None:
    if htmx:
        response = teller_client.htmx("POST", NEW, data=data)
    else:
        response = teller_client.post_form(NEW, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert 'class="field-error"' in html
    assert 'aria-invalid="true"' in html
    assert ("<html" in html) is not htmx
    assert count_rows(Customer) == 0


def test_new_form_renders(teller_client: WebClient) -> None:
    html = teller_client.get(NEW).get_data(as_text=True)
    assert 'name="full_name"' in html
    assert 'type="email"' in html
    assert 'name="csrf_token"' in html


def test_edit_form_is_prefilled_and_saves_once_approved(
    teller_client: WebClient, customer: Customer, teller: User, approver: User
) -> None:
    url = f"/admin/customers/{customer.id}/edit"
    html = teller_client.get(url).get_data(as_text=True)
    assert 'value="Dana Doe"' in html
    assert 'value="dana@example.test"' in html
    response = teller_client.post_form(
        url, {"full_name": "Dana Smith", "email": "dana@example.test", "address": "2 High St"}
    )
    assert response.status_code == 302
    assert response.location == f"/admin/customers/{customer.id}"
    request_id = request_id_in(teller_client.get(response.location).get_data(as_text=True))
    assert customer_queries.get_customer(customer.id).full_name == "Dana Doe"
    approve(request_id, approver)
    fresh = customer_queries.get_customer(customer.id)
    assert (fresh.full_name, fresh.address) == ("Dana Smith", "2 High St")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "customer.update"))
    assert event is not None
    assert event.details["changes"]["full_name"] == {"old": "Dana Doe", "new": "Dana Smith"}


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_edit_with_invalid_input_is_422(
    teller_client: WebClient, customer: Customer, htmx: bool
) -> None:
    url = f"/admin/customers/{customer.id}/edit"
    data = {"full_name": "Dana Doe", "email": "dana@", "phone": "12"}
    if htmx:
        response = teller_client.htmx("POST", url, data=data)
    else:
        response = teller_client.post_form(url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an email address like name@example.com." in html
    assert ("<html" in html) is not htmx
    assert customer_queries.get_customer(customer.id).email == "dana@example.test"


def test_editing_a_closed_customer_is_refused_with_a_message(
    teller_client: WebClient, customer: Customer, teller: User
) -> None:
    customers.close_customer(customer.id, actor=teller)
    response = teller_client.post_form(
        f"/admin/customers/{customer.id}/edit", {"full_name": "Someone Else"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "can no longer be edited" in html
    assert "Traceback" not in html
    assert customer_queries.get_customer(customer.id).full_name == "Dana Doe"
