"""Customers and accounts as change requests: checked when asked, checked again when
decided (failing with the reason), done once approved, with their audit and outbox events
only then (services, both databases)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import audit_events, count_rows
from tests.services.change_actions.support import ask, business_events, decide
from vaulta.extensions import db
from vaulta.models import Account, Customer, User
from vaulta.services import ledger
from vaulta.services.banking import accounts, customers
from vaulta.services.changes.change_requests import DuplicateRequest
from vaulta.services.errors import (
    AccountNotAvailable,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)


def _status(model: type[Account] | type[Customer], ident: int) -> str:
    db.session.rollback()
    row = db.session.get(model, ident, populate_existing=True)
    assert row is not None
    return row.status


# --- customers -------------------------------------------------------------------------


def test_customer_create_exists_only_once_approved(teller: User, approver: User) -> None:
    request = ask(teller, "customer.create", full_name="  Ada   Lovelace ", email="ADA@x.test")
    assert (request.status, request.target_id, request.levels_required) == ("pending", None, 1)
    assert request.change["after"] == {"full_name": "Ada Lovelace", "email": "ada@x.test"}
    assert count_rows(Customer) == 0
    assert business_events() == []
    done = decide(request, approver)
    assert done.status == "approved"
    customer = db.session.get(Customer, done.target_id)
    assert customer is not None
    assert (customer.full_name, customer.email) == ("Ada Lovelace", "ada@x.test")
    assert done.result == {"customer_id": customer.id, "customer_number": customer.customer_number}
    assert business_events() == ["customer.created"]
    (event,) = audit_events("customer", customer.id)
    assert (event.action, event.actor_id) == ("customer.create", teller.id)
    assert event.details["approved_by_id"] == approver.id


@pytest.mark.parametrize(
    ("params", "field"),
    [({"full_name": ""}, "full_name"), ({"full_name": "Bo", "email": "nope"}, "email")],
)
def test_customer_create_refuses_bad_input(teller: User, params: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        ask(teller, "customer.create", **params)
    assert err.value.field == field


def test_only_tellers_ask_and_never_decide_their_own(
    teller: User, admin: User, approver: User
) -> None:
    with pytest.raises(Forbidden):
        ask(admin, "customer.create", full_name="Admin's Friend")
    with pytest.raises(Forbidden):
        ask(approver, "customer.create", full_name="Approver's Friend")
    request = ask(teller, "customer.create", full_name="Own Request")
    with pytest.raises(Forbidden):
        decide(request, teller)


def test_customer_update_shows_the_diff_and_rechecks(teller: User, approver: User) -> None:
    customer = factories.make_customer("Dana Doe", email="dana@x.test")
    request = ask(
        teller,
        "customer.update",
        customer_id=customer.id,
        full_name="Dana Smith",
        email="dana@x.test",
    )
    assert request.change["before"] == {"full_name": "Dana Doe"}
    assert request.change["after"] == {"full_name": "Dana Smith"}
    assert db.session.get(Customer, customer.id).full_name == "Dana Doe"  # type: ignore[union-attr]
    assert decide(request, approver).status == "approved"
    assert db.session.get(Customer, customer.id).full_name == "Dana Smith"  # type: ignore[union-attr]
    assert business_events()[-1] == "customer.updated"
    # Nothing to change, an unknown customer: refused when asked.
    with pytest.raises(InvalidInput):
        ask(
            teller,
            "customer.update",
            customer_id=customer.id,
            full_name="Dana Smith",
            email="dana@x.test",
        )
    with pytest.raises(NotFound):
        ask(teller, "customer.update", customer_id=999_999, full_name="X")
    # Closed meanwhile: the decision fails with the reason, nothing changes.
    later = ask(teller, "customer.update", customer_id=customer.id, full_name="Dana Jones")
    customers.close_customer(customer.id, actor=teller)
    failed = decide(later, approver)
    assert failed.status == "failed"
    assert "can no longer be edited" in (failed.failure_reason or "")
    assert db.session.get(Customer, customer.id).full_name == "Dana Smith"  # type: ignore[union-attr]


def test_customer_status_changes(teller: User, approver: User) -> None:
    customer = factories.make_customer("Eve Status")
    request = ask(teller, "customer.suspend", customer_id=customer.id)
    assert (request.change["before"], request.change["after"]) == (
        {"status": "active"},
        {"status": "suspended"},
    )
    with pytest.raises(DuplicateRequest) as dup:
        ask(teller, "customer.close", customer_id=customer.id)
    assert dup.value.first_id == request.id
    assert _status(Customer, customer.id) == "active"
    decide(request, approver)
    assert _status(Customer, customer.id) == "suspended"
    with pytest.raises(Conflict):
        ask(teller, "customer.suspend", customer_id=customer.id)
    decide(ask(teller, "customer.reactivate", customer_id=customer.id), approver)
    assert _status(Customer, customer.id) == "active"
    assert business_events() == ["customer.created", "customer.suspended", "customer.reactivated"]


def test_customer_close_fails_when_an_account_was_opened_meanwhile(
    teller: User, approver: User
) -> None:
    customer = factories.make_customer("Fay Close")
    request = ask(teller, "customer.close", customer_id=customer.id)
    factories.make_account(customer, "EUR")
    failed = decide(request, approver)
    assert failed.status == "failed"
    assert failed.failure_reason == "Close this customer's accounts first: 1 is still open."
    assert _status(Customer, customer.id) == "active"
    assert "customer.closed" not in business_events()


# --- accounts --------------------------------------------------------------------------


def test_account_open(teller: User, approver: User) -> None:
    customer = factories.make_customer("Gus Open")
    request = ask(teller, "account.open", customer_id=customer.id, currency="USD")
    assert (request.customer_id, request.account_kind, request.target_id) == (
        customer.id,
        "customer",
        None,
    )
    assert count_rows(Account) == 0
    with pytest.raises(DuplicateRequest):
        ask(teller, "account.open", customer_id=customer.id, currency="USD")
    with pytest.raises(InvalidInput):
        ask(teller, "account.open", customer_id=customer.id, currency="XXX")
    done = decide(request, approver)
    account = db.session.get(Account, done.target_id)
    assert account is not None
    assert (account.currency, account.customer_id, account.status) == ("USD", customer.id, "active")
    assert done.result == {"account_id": account.id, "number": account.number}
    assert business_events()[-1] == "account.opened"


def test_account_open_fails_when_the_customer_was_suspended_meanwhile(
    teller: User, approver: User
) -> None:
    customer = factories.make_customer("Hal Suspended")
    request = ask(teller, "account.open", customer_id=customer.id, currency="EUR")
    customers.suspend_customer(customer.id, actor=teller)
    failed = decide(request, approver)
    assert failed.status == "failed"
    assert "active customers" in (failed.failure_reason or "")
    assert count_rows(Account) == 0
    with pytest.raises(AccountNotAvailable):
        ask(teller, "account.open", customer_id=customer.id, currency="EUR")


def test_account_freeze_unfreeze_close(teller: User, approver: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    request = ask(teller, "account.freeze", account_id=account.id, reason=" Lost card ")
    assert request.change["params"] == {"account_id": account.id, "reason": "Lost card"}
    assert _status(Account, account.id) == "active"
    decide(request, approver)
    assert _status(Account, account.id) == "frozen"
    with pytest.raises(Conflict):
        ask(teller, "account.freeze", account_id=account.id)
    decide(ask(teller, "account.unfreeze", account_id=account.id), approver)
    decide(ask(teller, "account.close", account_id=account.id), approver)
    assert _status(Account, account.id) == "closed"
    assert business_events()[-3:] == ["account.frozen", "account.unfrozen", "account.closed"]
    (freeze,) = [e for e in audit_events("account", account.id) if e.action == "account.freeze"]
    assert (freeze.actor_id, freeze.details["reason"]) == (teller.id, "Lost card")


def test_account_close_is_refused_or_fails_at_a_non_zero_balance(
    teller: User, approver: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_00)
    with pytest.raises(Conflict, match="zero balance"):
        ask(teller, "account.close", account_id=account.id)
    ledger.withdraw(account, 1_00, actor=teller, description="Pay out")
    request = ask(teller, "account.close", account_id=account.id)
    ledger.deposit(account, 5, actor=teller, description="Interest")
    failed = decide(request, approver)
    assert failed.status == "failed"
    assert "zero balance" in (failed.failure_reason or "")
    assert _status(Account, account.id) == "active"
    assert "account.closed" not in business_events()


def test_system_accounts_cannot_be_asked_for(teller: User) -> None:
    system = accounts.system_account("EUR")
    with pytest.raises(Conflict):
        ask(teller, "account.freeze", account_id=system.id)
    with pytest.raises(NotFound):
        ask(teller, "account.freeze", account_id=999_999)
