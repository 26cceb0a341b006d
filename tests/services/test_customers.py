"""Customers without HTTP: validation, edits, status changes, search with keyset paging, audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import audit_events, count_rows
from vaulta.extensions import db
from vaulta.models import Account, Customer, User
from vaulta.services.banking import customer_queries, customers
from vaulta.services.errors import Conflict, InvalidInput, NotFound
from vaulta.services.unit_of_work import write_transaction


def make(admin: User, name: str, **fields: str) -> Customer:
    return customers.create_customer(full_name=name, actor=admin, **fields)


def close_account(account: Account) -> None:
    """Test set-up only: mark an empty account closed (closing accounts is another service)."""
    with write_transaction() as s:
        row = s.get(Account, account.id)
        assert row is not None
        assert row.balance_minor == 0
        row.status = "closed"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"full_name": "   "}, "full_name", "full name"),
        ({"full_name": "x" * 201}, "full_name", "under 200"),
        ({"full_name": "Ann", "email": "not-an-email"}, "email", "email address"),
        ({"full_name": "Ann", "email": "a@b"}, "email", "email address"),
        ({"full_name": "Ann", "phone": "call me"}, "phone", "phone number"),
        ({"full_name": "Ann", "phone": "12"}, "phone", "phone number"),
    ],
)
def test_create_refuses_invalid_fields(
    app: Flask, admin: User, fields: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        customers.create_customer(actor=admin, **fields)
    assert caught.value.field == field
    assert message in caught.value.message
    assert count_rows(Customer) == 0


def test_create_normalises_and_audits(app: Flask, admin: User) -> None:
    customer = make(admin, "  Ann   Lee ", email=" Ann@Example.COM ", phone=" +44 20  7946 0000")
    assert (customer.full_name, customer.email, customer.phone) == (
        "Ann Lee",
        "ann@example.com",
        "+44 20 7946 0000",
    )
    assert customer.status == "active"
    [event] = audit_events("customer", customer.id)
    assert (event.action, event.actor_id) == ("customer.create", admin.id)


def test_update_changes_fields_and_audits_old_and_new(app: Flask, admin: User) -> None:
    customer = make(admin, "Ann Lee", email="ann@example.com")
    customers.update_customer(
        customer.id,
        full_name="Ann Smith",
        email="ann@example.com",
        phone="020 7946 0001",
        address="",
        actor=admin,
    )
    fresh = customer_queries.get_customer(customer.id)
    assert (fresh.full_name, fresh.phone, fresh.address) == ("Ann Smith", "020 7946 0001", None)
    event = audit_events("customer", customer.id)[-1]
    assert event.action == "customer.update"
    assert event.details == {
        "changes": {
            "full_name": {"old": "Ann Lee", "new": "Ann Smith"},
            "phone": {"old": None, "new": "020 7946 0001"},
        }
    }


def test_update_without_changes_writes_no_audit_event(app: Flask, admin: User) -> None:
    customer = make(admin, "Ann Lee")
    customers.update_customer(
        customer.id, full_name="Ann Lee", email=None, phone=None, address=None, actor=admin
    )
    assert [e.action for e in audit_events("customer", customer.id)] == ["customer.create"]


def test_update_validates_and_refuses_unknown_customer(app: Flask, admin: User) -> None:
    customer = make(admin, "Ann Lee")
    with pytest.raises(InvalidInput) as caught:
        customers.update_customer(
            customer.id, full_name="Ann", email="bad", phone=None, address=None, actor=admin
        )
    assert caught.value.field == "email"
    with pytest.raises(NotFound):
        customers.update_customer(
            customer.id + 1000, full_name="X", email=None, phone=None, address=None, actor=admin
        )


TRANSITIONS = {
    "suspend": customers.suspend_customer,
    "reactivate": customers.reactivate_customer,
    "close": customers.close_customer,
}
SETUP = {"active": [], "suspended": ["suspend"], "closed": ["close"]}


@pytest.mark.parametrize(
    ("start", "action", "result"),
    [
        ("active", "suspend", "suspended"),
        ("active", "reactivate", Conflict),
        ("active", "close", "closed"),
        ("suspended", "suspend", Conflict),
        ("suspended", "reactivate", "active"),
        ("suspended", "close", "closed"),
        ("closed", "suspend", Conflict),
        ("closed", "reactivate", Conflict),
        ("closed", "close", Conflict),
    ],
)
def test_status_transitions(
    app: Flask, admin: User, start: str, action: str, result: str | type[Exception]
) -> None:
    customer = make(admin, "Ann Lee")
    for step in SETUP[start]:
        TRANSITIONS[step](customer.id, actor=admin)
    before = len(audit_events("customer", customer.id))
    if isinstance(result, str):
        changed = TRANSITIONS[action](customer.id, actor=admin)
        assert changed.status == result
        event = audit_events("customer", customer.id)[-1]
        assert event.action == f"customer.{action}"
        assert event.actor_id == admin.id
        expected = {"old_status": start, "new_status": result}
        if result != "active":  # the customer has no logins: none of their sessions ended
            expected["sessions_ended"] = 0
        assert event.details == expected
    else:
        with pytest.raises(result):
            TRANSITIONS[action](customer.id, actor=admin)
        assert customer_queries.get_customer(customer.id).status == start
        assert len(audit_events("customer", customer.id)) == before


def test_closed_customer_cannot_be_edited(app: Flask, admin: User) -> None:
    customer = make(admin, "Ann Lee")
    customers.close_customer(customer.id, actor=admin)
    with pytest.raises(Conflict, match="closed"):
        customers.update_customer(
            customer.id, full_name="New", email=None, phone=None, address=None, actor=admin
        )


@pytest.mark.parametrize("account_status", ["active", "frozen"])
def test_close_refused_while_an_account_is_not_closed(
    app: Flask, admin: User, account_status: str
) -> None:
    customer = make(admin, "Ann Lee")
    account = factories.make_account(customer, "EUR")
    if account_status == "frozen":
        with write_transaction() as s:
            row = s.get(Account, account.id)
            assert row is not None
            row.status = "frozen"
    with pytest.raises(Conflict, match="still open"):
        customers.close_customer(customer.id, actor=admin)
    assert customer_queries.get_customer(customer.id).status == "active"
    close_account(account)
    assert customers.close_customer(customer.id, actor=admin).status == "closed"


def test_status_change_of_unknown_customer_is_not_found(app: Flask, admin: User) -> None:
    with pytest.raises(NotFound):
        customers.suspend_customer(999_999, actor=admin)


@pytest.fixture
def people(app: Flask, admin: User) -> dict[str, Customer]:
    return {
        "ann": make(admin, "Ann Lee", email="ann.lee@example.com", phone="+44 20 7946 1234"),
        "bob": make(admin, "Bob Annison", email="bob@example.org", phone="(020) 555-0199"),
        "cy": make(admin, "Cy Young", email="cy@sample.net"),
        "pct": make(admin, "100% Percent"),
    }


def names(query: str, **kwargs: object) -> list[str]:
    return [c.full_name for c in customer_queries.search_customers(query, **kwargs).rows]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["100% Percent", "Ann Lee", "Bob Annison", "Cy Young"]),
        ("ann", ["Ann Lee", "Bob Annison"]),
        ("ANNISON", ["Bob Annison"]),
        ("  young ", ["Cy Young"]),
        ("example.org", ["Bob Annison"]),
        ("ann.lee@", ["Ann Lee"]),
        ("CY@SAMPLE.NET", ["Cy Young"]),
        ("20 7946 1234", ["Ann Lee"]),
        ("79461234", ["Ann Lee"]),
        ("555-0199", ["Bob Annison"]),
        ("%", ["100% Percent"]),
        ("_", []),
        ("nobody", []),
    ],
)
def test_search_by_name_email_and_phone(
    people: dict[str, Customer], query: str, expected: list[str]
) -> None:
    assert names(query) == expected


def test_search_by_customer_number_exact_and_prefix(people: dict[str, Customer]) -> None:
    ann = people["ann"]
    number = ann.customer_number
    assert names(number) == ["Ann Lee"]
    assert names(number.lower()) == ["Ann Lee"]
    prefix = number[:6].lower()
    matches = customer_queries.search_customers(prefix).rows
    assert ann.id in [row.id for row in matches]
    assert all(c.customer_number.startswith(number[:6]) for c in matches)
    assert names(number[1:]) == ["Ann Lee"]  # the digits alone


def test_keyset_pagination_walks_every_row_once_with_duplicate_names(
    app: Flask, admin: User
) -> None:
    for name in ["Zed", "Sam Same", "Amy", "Sam Same", "Sam Same", "Bea", "Sam Same", "Sam"]:
        make(admin, name)
    expected = [
        (c.full_name, c.id)
        for c in db.session.scalars(sa.select(Customer).order_by(Customer.full_name, Customer.id))
    ]
    seen: list[tuple[str, int]] = []
    after = None
    pages = 0
    while True:
        page = customer_queries.search_customers("", after=after, limit=3)
        seen.extend((c.full_name, c.id) for c in page.rows)
        pages += 1
        if not page.has_more:
            break
        assert page.next_after == seen[-1]
        after = page.next_after
    assert seen == expected
    assert pages == 3
    # The same with a filter: only the "Sam" rows, two per page.
    sam = []
    after = None
    while True:
        page = customer_queries.search_customers("sam", after=after, limit=2)
        sam.extend(c.id for c in page.rows)
        if not page.has_more:
            break
        after = page.next_after
    assert sam == [i for n, i in expected if "Sam" in n]


def test_last_full_page_has_no_next_cursor(app: Flask, admin: User) -> None:
    for name in ["A", "B"]:
        make(admin, name)
    page = customer_queries.search_customers("", limit=2)
    assert (len(page.rows), page.has_more, page.next_after) == (2, False, None)


def test_customer_detail_loads_accounts_and_logins(app: Flask, admin: User) -> None:
    login = factories.make_customer_login("detail@example.test")
    customer = factories.customer_of(login)
    eur = factories.make_account(customer, "EUR")
    usd = factories.make_account(customer, "USD")
    customer_id, account_ids = customer.id, [eur.id, usd.id]
    db.session.expunge_all()
    detail = customer_queries.customer_detail(customer_id)
    state = sa.inspect(detail)
    assert "accounts" not in state.unloaded
    assert "users" not in state.unloaded
    assert [a.id for a in detail.accounts] == account_ids
    assert [u.email for u in detail.users] == ["detail@example.test"]
    with pytest.raises(NotFound):
        customer_queries.customer_detail(customer_id + 1000)
