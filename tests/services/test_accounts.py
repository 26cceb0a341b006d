"""Accounts without HTTP: freeze / unfreeze / close rules, auditing and ownership look-ups."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.helpers import audit_actions
from vaulta.extensions import db
from vaulta.models import Account, AuditEvent, User
from vaulta.services import ledger
from vaulta.services.banking import account_queries, accounts
from vaulta.services.errors import AccountNotAvailable, Conflict, NotFound

ACTIONS: dict[str, Callable[..., Account]] = {
    "freeze": accounts.freeze_account,
    "unfreeze": accounts.unfreeze_account,
    "close": accounts.close_account,
}
# How to bring a fresh (active) account into each starting status.
SETUP: dict[str, list[str]] = {"active": [], "frozen": ["freeze"], "closed": ["close"]}


def stored(account: Account) -> Account:
    db.session.expire_all()
    fresh = db.session.get(Account, account.id)
    assert fresh is not None
    return fresh


@pytest.mark.parametrize(
    ("start", "action", "result"),
    [
        ("active", "freeze", "frozen"),
        ("active", "unfreeze", None),
        ("active", "close", "closed"),
        ("frozen", "freeze", None),
        ("frozen", "unfreeze", "active"),
        ("frozen", "close", "closed"),
        ("closed", "freeze", None),
        ("closed", "unfreeze", None),
        ("closed", "close", None),
    ],
)
def test_status_changes(
    app: Flask, admin: User, start: str, action: str, result: str | None
) -> None:
    account = factories.make_account(factories.make_customer(), "EUR")
    for step in SETUP[start]:
        ACTIONS[step](account.id, actor=admin)
    before = audit_actions("account", account.id)
    if result is None:
        with pytest.raises(Conflict):
            ACTIONS[action](account.id, actor=admin, reason="test")
        assert stored(account).status == start
        assert audit_actions("account", account.id) == before
        return
    ACTIONS[action](account.id, actor=admin, reason="  customer asked  ")
    fresh = stored(account)
    assert fresh.status == result
    assert (fresh.closed_at is not None) == (result == "closed")
    assert audit_actions("account", account.id) == [*before, f"account.{action}"]
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None
    assert event.actor_id == admin.id
    assert event.details["reason"] == "customer asked"
    assert event.details["to"] == result


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_system_accounts_cannot_change_status(app: Flask, admin: User, action: str) -> None:
    system = accounts.system_account("EUR")
    with pytest.raises(Conflict, match="system"):
        ACTIONS[action](system.id, actor=admin)
    assert stored(system).status == "active"


def test_close_refused_at_a_non_zero_balance(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 1_050)
    with pytest.raises(Conflict, match=r"zero balance.*10\.50 EUR"):
        accounts.close_account(account.id, actor=admin)
    assert stored(account).status == "active"
    ledger.withdraw(account, 1_050, actor=admin, description="Pay out")
    accounts.close_account(account.id, actor=admin)
    assert stored(account).status == "closed"


def test_frozen_account_refuses_money_until_unfrozen(app: Flask, admin: User) -> None:
    account = factories.make_account(factories.make_customer(), "EUR", 500)
    accounts.freeze_account(account.id, actor=admin)
    with pytest.raises(AccountNotAvailable):
        ledger.deposit(account, 100, actor=admin, description="x")
    accounts.unfreeze_account(account.id, actor=admin)
    ledger.deposit(account, 100, actor=admin, description="x")
    assert stored(account).balance_minor == 600


def test_missing_account(app: Flask, admin: User) -> None:
    for action in ACTIONS.values():
        with pytest.raises(NotFound):
            action(999_999, actor=admin)
    with pytest.raises(NotFound):
        account_queries.get_account(999_999)


def test_customer_sees_only_their_own_account(
    app: Flask, customer_user: User, other_customer_user: User
) -> None:
    mine = factories.make_account(factories.customer_of(customer_user))
    theirs = factories.make_account(factories.customer_of(other_customer_user))
    me = factories.customer_of(customer_user).id
    assert account_queries.get_account_for_customer(mine.number, me).id == mine.id
    assert account_queries.get_account(theirs.id).id == theirs.id
    with pytest.raises(NotFound):
        account_queries.get_account_for_customer(theirs.number, me)
    with pytest.raises(NotFound):
        account_queries.get_account_for_customer(accounts.system_account("EUR").number, me)
    with pytest.raises(NotFound):
        account_queries.get_account_for_customer("0000000000", me)
