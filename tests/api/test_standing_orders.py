"""/api/v1/standing-orders: set up (checked like a payment), list, read, pause, resume,
cancel; another customer's order is 404; the OpenAPI document describes them."""

from __future__ import annotations

from datetime import date, timedelta

from tests import factories
from tests.api.conftest import VALID_IBAN, bearer, make_key, payment_body
from tests.webclient import WebClient
from vaulta.models import Account, User

URL = "/api/v1/standing-orders"


def _body(source: Account, target: Account | None = None, **changes: object) -> dict:
    body = payment_body(source, target)
    body |= {"frequency": "monthly", "first_date": date.today().isoformat(), **changes}
    return body


def test_sets_up_lists_reads_and_changes_an_order(
    api: WebClient, source: Account, target: Account
) -> None:
    created = api.post(URL, json=_body(source, target, max_runs=12))
    assert created.status_code == 201, created.json
    order = created.json
    assert created.headers["Location"] == f"{URL}/{order['id']}"
    assert (order["status"], order["frequency"], order["max_runs"]) == ("active", "monthly", 12)
    assert (order["amount_minor"], order["currency"], order["to_account"]) == (
        1250,
        "EUR",
        target.number,
    )
    assert order["next_due_date"] == date.today().isoformat()
    assert order["runs"] == []
    assert [o["id"] for o in api.get(URL).json["items"]] == [order["id"]]
    assert api.get(f"{URL}/{order['id']}").json["id"] == order["id"]
    assert api.post(f"{URL}/{order['id']}/pause").json["status"] == "paused"
    assert api.post(f"{URL}/{order['id']}/pause").status_code == 409
    assert api.post(f"{URL}/{order['id']}/resume").json["status"] == "active"
    cancelled = api.post(f"{URL}/{order['id']}/cancel").json
    assert (cancelled["status"], cancelled["next_due_date"]) == ("cancelled", None)


def test_an_external_beneficiary_weekly_with_an_end_date(api: WebClient, source: Account) -> None:
    end = (date.today() + timedelta(days=30)).isoformat()
    response = api.post(URL, json=_body(source, frequency="weekly", end_date=end))
    assert response.status_code == 201, response.json
    assert response.json["beneficiary"]["iban"] == VALID_IBAN
    assert response.json["end_date"] == end


def test_refused_fields_are_422_naming_the_field(
    api: WebClient, source: Account, target: Account
) -> None:
    past = (date.today() - timedelta(days=1)).isoformat()
    cases = [
        (_body(source, target, first_date=past), "first_date"),
        (_body(source, target, frequency="daily"), "frequency"),
        (_body(source, target, currency="USD"), "currency"),
        (_body(source, target, amount_minor=0), "amount_minor"),
        (_body(source, target, max_runs=0), "max_runs"),
    ]
    for body, field in cases:
        response = api.post(URL, json=body)
        assert response.status_code == 422, (field, response.json)
        assert field in [d["field"] for d in response.json["error"]["details"]], response.json


def test_another_customers_order_is_404(
    api: WebClient, source: Account, target: Account, other_customer_user: User
) -> None:
    order_id = api.post(URL, json=_body(source, target)).json["id"]
    factories.make_account(factories.customer_of(other_customer_user), "EUR")
    theirs = bearer(make_key(other_customer_user))
    assert api.get(f"{URL}/{order_id}", headers=theirs).status_code == 404
    assert api.post(f"{URL}/{order_id}/cancel", headers=theirs).status_code == 404
    assert api.get(URL, headers=theirs).json["items"] == []


def test_a_read_only_key_cannot_set_one_up(
    api: WebClient, source: Account, target: Account, customer_user: User
) -> None:
    read_only = bearer(make_key(customer_user, ("read",)))
    assert api.post(URL, json=_body(source, target), headers=read_only).status_code == 403
    assert api.get(URL, headers=read_only).status_code == 200


def test_the_document_describes_them(api: WebClient) -> None:
    document = api.get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(document["paths"][URL])
    assert "post" in document["paths"][URL + "/{order_id}/pause"]
    schemas = document["components"]["schemas"]
    assert "StandingOrderData" in schemas
    assert "StandingOrderRunData" in schemas
