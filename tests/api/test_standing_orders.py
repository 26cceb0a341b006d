"""/api/v1/standing-orders: set up (checked like a payment), list, read, pause, resume,
cancel; another customer's order is 404; the OpenAPI document describes them."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import sqlalchemy as sa

from tests import factories
from tests.api.conftest import VALID_IBAN, bearer, end_read_transaction, make_key, payment_body
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ApiIdempotencyKey, AuditEvent, User
from vaulta.models import StandingOrder as StandingOrderRow

URL = "/api/v1/standing-orders"
_KEYS = itertools.count(1)


def _create(api: WebClient, body: dict, key: str | None = None, **headers: str):  # type: ignore[no-untyped-def]
    idem = key or f"so-{next(_KEYS)}"
    return api.post(URL, json=body, headers={"Idempotency-Key": idem, **headers})


def _body(source: Account, target: Account | None = None, **changes: object) -> dict:
    body = payment_body(source, target)
    body |= {"frequency": "monthly", "first_date": date.today().isoformat(), **changes}
    return body


def test_sets_up_lists_reads_and_changes_an_order(
    api: WebClient, source: Account, target: Account
) -> None:
    created = _create(api, _body(source, target, max_runs=12))
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
    response = _create(api, _body(source, frequency="weekly", end_date=end))
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
        response = _create(api, body)
        assert response.status_code == 422, (field, response.json)
        assert field in [d["field"] for d in response.json["error"]["details"]], response.json


def test_another_customers_order_is_404(
    api: WebClient, source: Account, target: Account, other_customer_user: User
) -> None:
    order_id = _create(api, _body(source, target)).json["id"]
    factories.make_account(factories.customer_of(other_customer_user), "EUR")
    theirs = bearer(make_key(other_customer_user))
    assert api.get(f"{URL}/{order_id}", headers=theirs).status_code == 404
    assert api.post(f"{URL}/{order_id}/cancel", headers=theirs).status_code == 404
    assert api.get(URL, headers=theirs).json["items"] == []


def test_a_read_only_key_cannot_set_one_up(
    api: WebClient, source: Account, target: Account, customer_user: User
) -> None:
    read_only = bearer(make_key(customer_user, ("read",)))
    assert _create(api, _body(source, target), **read_only).status_code == 403
    assert api.get(URL, headers=read_only).status_code == 200


def test_the_document_describes_them(api: WebClient) -> None:
    document = api.get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(document["paths"][URL])
    assert "post" in document["paths"][URL + "/{order_id}/pause"]
    schemas = document["components"]["schemas"]
    assert "StandingOrderData" in schemas
    assert "StandingOrderRunData" in schemas


def _orders() -> list[StandingOrderRow]:
    end_read_transaction()
    return list(db.session.scalars(sa.select(StandingOrderRow).order_by(StandingOrderRow.id)))


def test_the_same_key_and_body_replay_the_first_response(
    api: WebClient, source: Account, target: Account
) -> None:
    body = _body(source, target)
    first = _create(api, body, "order-1")
    again = _create(api, dict(reversed(list(body.items()))), "order-1")  # key order is no change
    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert again.headers["Location"] == first.headers["Location"]
    assert len(_orders()) == 1
    assert count_rows(ApiIdempotencyKey) == 1
    created = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "standing_order.create")
    ).all()
    assert len(created) == 1


def test_the_key_with_another_body_is_409_and_saves_nothing(
    api: WebClient, source: Account, target: Account
) -> None:
    assert _create(api, _body(source, target), "order-1").status_code == 201
    other = _create(api, _body(source, target, amount_minor=999), "order-1")
    assert other.status_code == 409
    assert other.json["error"]["code"] == "idempotency_key_reused"
    assert len(_orders()) == 1
    # a new key is a new request
    assert _create(api, _body(source, target), "order-2").status_code == 201
    assert len(_orders()) == 2


def test_refused_input_stores_no_key_so_the_client_may_correct_it(
    api: WebClient, source: Account, target: Account
) -> None:
    refused = _create(api, _body(source, target, frequency="daily"), "fix-me")
    assert refused.status_code == 422
    past = (date.today() - timedelta(days=1)).isoformat()
    assert _create(api, _body(source, target, first_date=past), "fix-me").status_code == 422
    assert count_rows(ApiIdempotencyKey) == 0
    assert _create(api, _body(source, target), "fix-me").status_code == 201


def test_the_key_is_required_and_checked(api: WebClient, source: Account, target: Account) -> None:
    missing = api.post(URL, json=_body(source, target))
    assert (missing.status_code, missing.json["error"]["code"]) == (
        400,
        "idempotency_key_required",
    )
    bad = api.post(URL, json=_body(source, target), headers={"Idempotency-Key": "has space"})
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "invalid_idempotency_key")
    assert _orders() == []


def test_keys_are_per_user(
    api: WebClient, source: Account, target: Account, other_customer_user: User
) -> None:
    assert _create(api, _body(source, target), "shared").status_code == 201
    theirs_account = factories.make_account(factories.customer_of(other_customer_user), "EUR")
    theirs = bearer(make_key(other_customer_user))
    response = _create(api, _body(theirs_account, target), "shared", **theirs)
    assert response.status_code == 201, response.json
    assert "Idempotent-Replayed" not in response.headers
    assert len(_orders()) == 2


def test_the_document_declares_the_key(api: WebClient) -> None:
    post = api.get("/api/v1/openapi.json").json["paths"][URL]["post"]
    [header] = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
    assert (header["in"], header["required"]) == ("header", True)
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]
    assert "409" in post["responses"]
