"""Limits and blocks as change requests: an account's overdraft limit (two approvers by the
seeded policy ``overdraft-limits``), debit and credit blocks, a customer's daily outgoing
limit; checked when asked, re-checked when decided, done once approved (services, both
databases)."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import audit_events
from tests.services.change_actions.support import ask, business_events, decide
from vaulta.extensions import db
from vaulta.models import Account, Customer, User
from vaulta.services.banking import accounts
from vaulta.services.errors import Conflict, InvalidInput


def _fresh(model: type[Account] | type[Customer], ident: int) -> Account | Customer:
    db.session.rollback()
    row = db.session.get(model, ident, populate_existing=True)
    assert row is not None
    return row


def test_overdraft_limit_needs_two_approvers_and_is_audited(
    teller: User, approver: User, second_approver: User
) -> None:
    account = factories.make_account(factories.make_customer("Olga Over"), "EUR")
    request = ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=50_000)
    assert (request.status, request.levels_required) == ("pending", 2)
    assert request.change["before"] == {"overdraft_limit_minor": 0}
    assert request.change["after"] == {"overdraft_limit_minor": 50_000}
    assert decide(request, approver).status == "pending"
    assert _fresh(Account, account.id).overdraft_limit_minor == 0  # type: ignore[union-attr]
    done = decide(request, second_approver)
    assert done.status == "approved"
    assert done.result == {"account_id": account.id, "overdraft_limit_minor": 50_000}
    assert _fresh(Account, account.id).overdraft_limit_minor == 50_000  # type: ignore[union-attr]
    (event,) = [e for e in audit_events("account", account.id) if e.action == "account.overdraft"]
    assert (event.actor_id, event.details["from"], event.details["to"]) == (teller.id, 0, 50_000)
    assert event.details["approved_by_id"] == second_approver.id


@pytest.mark.parametrize("value", [-1, "100", 1.5, None, True])
def test_overdraft_limit_refuses_bad_values(teller: User, value: object) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    with pytest.raises(InvalidInput) as err:
        ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=value)
    assert err.value.field == "overdraft_limit_minor"


def test_overdraft_limit_is_for_open_customer_accounts_only(teller: User) -> None:
    system = accounts.system_account("EUR")
    with pytest.raises(Conflict, match="Only customer accounts"):
        ask(teller, "account.overdraft", account_id=system.id, overdraft_limit_minor=100)
    account = factories.make_account(factories.make_customer(), "EUR")
    with pytest.raises(InvalidInput, match="Nothing to change"):
        ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=0)
    accounts.close_account(account.id, actor=teller)
    with pytest.raises(Conflict, match="closed"):
        ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=100)


def test_a_limit_below_what_the_account_owes_fails_when_decided(
    teller: User, approver: User, second_approver: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    raise_it = ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=10_000)
    decide(raise_it, approver, second_approver)
    lower = ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=1_000)
    stored = _fresh(Account, account.id)
    stored.balance_minor = -5_000  # type: ignore[union-attr]  # spent into the overdraft
    db.session.commit()
    failed = decide(lower, approver, second_approver)
    assert failed.status == "failed"
    assert "cannot be lower" in (failed.failure_reason or "")
    assert _fresh(Account, account.id).overdraft_limit_minor == 10_000  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="owes"):
        ask(teller, "account.overdraft", account_id=account.id, overdraft_limit_minor=4_999)


@pytest.mark.parametrize(
    ("action", "status", "event"),
    [
        ("account.debit_block", "debit_blocked", "account.debit_blocked"),
        ("account.credit_block", "credit_blocked", "account.credit_blocked"),
    ],
)
def test_blocking_and_unblocking(
    teller: User, approver: User, action: str, status: str, event: str
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    request = ask(teller, action, account_id=account.id, reason="Court order")
    assert request.change["after"] == {"status": status}
    decide(request, approver)
    assert _fresh(Account, account.id).status == status
    with pytest.raises(Conflict):
        ask(teller, "account.freeze", account_id=account.id)
    with pytest.raises(Conflict):
        ask(teller, "account.debit_block", account_id=account.id)
    decide(ask(teller, "account.unblock", account_id=account.id), approver)
    assert _fresh(Account, account.id).status == "active"
    assert business_events()[-2:] == [event, "account.unblocked"]
    with pytest.raises(Conflict):
        ask(teller, "account.unblock", account_id=account.id)


def test_a_blocked_account_may_be_closed_but_not_the_system_account(
    teller: User, approver: User
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    decide(ask(teller, "account.credit_block", account_id=account.id), approver)
    decide(ask(teller, "account.close", account_id=account.id), approver)
    assert _fresh(Account, account.id).status == "closed"
    with pytest.raises(Conflict, match="system accounts"):
        ask(teller, "account.debit_block", account_id=accounts.system_account("EUR").id)


def test_daily_limit_is_set_and_removed(teller: User, approver: User) -> None:
    customer = factories.make_customer("Dora Daily")
    request = ask(
        teller, "customer.daily_limit", customer_id=customer.id, daily_outgoing_limit_minor=20_000
    )
    assert request.levels_required == 1
    assert request.change["before"] == {"daily_outgoing_limit_minor": None}
    decide(request, approver)
    stored = _fresh(Customer, customer.id)
    assert stored.daily_outgoing_limit_minor == 20_000  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="Nothing to change"):
        ask(
            teller,
            "customer.daily_limit",
            customer_id=customer.id,
            daily_outgoing_limit_minor=20_000,
        )
    decide(
        ask(
            teller, "customer.daily_limit", customer_id=customer.id, daily_outgoing_limit_minor=None
        ),
        approver,
    )
    assert _fresh(Customer, customer.id).daily_outgoing_limit_minor is None  # type: ignore[union-attr]
    actions = [e.action for e in audit_events("customer", customer.id)]
    assert actions.count("customer.daily_limit") == 2
    with pytest.raises(InvalidInput) as err:
        ask(teller, "customer.daily_limit", customer_id=customer.id, daily_outgoing_limit_minor=-5)
    assert err.value.field == "daily_outgoing_limit_minor"
