"""A Hypothesis state machine over change requests, on SQLite and PostgreSQL.

Tellers (and one teller who is also an approver) ask for deposits and withdrawals of
amounts around the 10,000.00 limits; approvers approve (with the mailed step-up code when
asked), reject, makers cancel; an admin's change switches the default policy between one
and two approvers. A model predicts every outcome. After every step:

- no money moved without the approvals its policy required: each account's balance is its
  funding plus exactly the approved requests; every approved request has as many approve
  decisions as it requires, by distinct people none of whom made it, and at least the
  levels its policy required when it was made;
- the cumulative limit cannot be split around: per customer, the requests executed with a
  single approval add up to less than 10,000.00;
- the ledger verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests import factories
from tests.services.changes.support import approve_with_code
from vaulta.extensions import db
from vaulta.models import Account, ChangeDecision, ChangeRequest, User
from vaulta.models.user import STAFF_APPROVER, STAFF_TELLER
from vaulta.services.changes import change_requests, policies
from vaulta.services.errors import Conflict, Forbidden, InsufficientFunds
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.unit_of_work import write_transaction

LIMIT = 1_000_000
AMOUNT = st.one_of(
    st.sampled_from([1, 2, 250_000, 499_999, 500_000, 999_999, LIMIT, 1_500_000]),
    st.integers(1, 1_200_000),
)
SETTINGS = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
FUNDING = 600_000


@dataclass
class Expected:
    """What the model knows of one request."""

    id: int
    kind: str
    account: int
    amount: int
    maker: int
    levels: int
    levels_at_submit: int
    status: str = "pending"
    deciders: set[int] = field(default_factory=set)


class ChangeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tellers = [factories.make_staff(None, STAFF_TELLER).id for _ in range(2)]
        self.approvers = [factories.make_staff(None, STAFF_APPROVER).id for _ in range(3)]
        self.both = factories.make_staff(None, STAFF_TELLER, STAFF_APPROVER).id
        self.admin = factories.make_admin().id
        self.makers = [*self.tellers, self.both]
        self.deciders = [*self.approvers, self.both]
        self.accounts: list[int] = []
        self.customer_of: dict[int, int] = {}
        for _ in range(2):
            customer = factories.make_customer()
            for _ in range(2):
                account = factories.make_account(customer, "EUR", FUNDING)
                self.accounts.append(account.id)
                self.customer_of[account.id] = customer.id
        self.balance = {a: FUNDING for a in self.accounts}
        self.requests: dict[int, Expected] = {}
        self.default_levels = 1
        db.session.commit()

    # --- the model -------------------------------------------------------------------

    def user(self, user_id: int) -> User:
        found = db.session.get(User, user_id)
        assert found is not None
        return found

    def cumulative(self, customer: int, *, without: int | None = None) -> int:
        return sum(
            r.amount
            for r in self.requests.values()
            if self.customer_of[r.account] == customer
            and r.status in ("pending", "approved")
            and r.id != without
        )

    def levels_for(self, account: int, amount: int, *, without: int | None = None) -> int:
        total = self.cumulative(self.customer_of[account], without=without) + amount
        money = 2 if amount >= LIMIT or total >= LIMIT else 1
        return max(self.default_levels, money)

    # --- rules -----------------------------------------------------------------------

    @rule(
        maker=st.integers(0, 2),
        account=st.integers(0, 3),
        kind=st.sampled_from(["deposit", "withdrawal"]),
        amount=AMOUNT,
    )
    def submit(self, maker: int, account: int, kind: str, amount: int) -> None:
        account_id, maker_id = self.accounts[account], self.makers[maker]
        params = {"account_id": account_id, "amount_minor": amount, "description": "SM"}
        duplicate = any(
            r.status == "pending" and (r.kind, r.account, r.amount) == (kind, account_id, amount)
            for r in self.requests.values()
        )
        call = lambda: change_requests.submit(  # noqa: E731
            f"ledger.{kind}", params, actor=self.user(maker_id)
        )
        if kind == "withdrawal" and self.balance[account_id] < amount:
            event("submit: insufficient")
            with pytest.raises(InsufficientFunds):
                call()
            return
        if duplicate:
            event("submit: duplicate")
            with pytest.raises(change_requests.DuplicateRequest):
                call()
            return
        levels = self.levels_for(account_id, amount)
        request = call()
        event(f"submit: {levels} levels")
        assert request.status == "pending"
        assert request.levels_required == levels
        self.requests[request.id] = Expected(
            request.id, kind, account_id, amount, maker_id, levels, levels
        )

    def decide(self, index: int, decider: int, pending: bool) -> tuple[Expected, int] | None:
        """A request (a pending one, when asked and there is one) and a decider."""
        ids = sorted(self.requests)
        open_ids = [i for i in ids if self.requests[i].status == "pending"]
        ids = open_ids if pending and open_ids else ids
        if not ids:
            return None
        return self.requests[ids[index % len(ids)]], self.deciders[decider]

    @precondition(lambda self: bool(self.requests))
    @rule(index=st.integers(0, 50), decider=st.integers(0, 3), pending=st.booleans())
    def approve(self, index: int, decider: int, pending: bool) -> None:
        found = self.decide(index, decider, pending or index % 5 != 0)
        assert found is not None
        expected, decider_id = found
        call = lambda: approve_with_code(expected.id, self.user(decider_id))  # noqa: E731
        if expected.status != "pending" or decider_id in expected.deciders:
            event("approve: conflict")
            with pytest.raises(Conflict):
                call()
            return
        if decider_id == expected.maker:
            event("approve: own")
            with pytest.raises(Forbidden):
                call()
            return
        expected.levels = max(
            expected.levels, self.levels_for(expected.account, expected.amount, without=expected.id)
        )
        request = call()
        expected.deciders.add(decider_id)
        assert request.levels_required == expected.levels
        if len(expected.deciders) < expected.levels:
            event("approve: level")
            assert request.status == "pending"
            return
        delta = expected.amount if expected.kind == "deposit" else -expected.amount
        if self.balance[expected.account] + delta < 0:
            event("approve: failed")
            expected.status = "failed"
            assert request.status == "failed"
            assert request.failure_reason
            return
        event(f"approve: executed after {expected.levels}")
        expected.status = "approved"
        assert request.status == "approved"
        self.balance[expected.account] += delta

    @precondition(lambda self: bool(self.requests))
    @rule(index=st.integers(0, 50), decider=st.integers(0, 3))
    def reject(self, index: int, decider: int) -> None:
        found = self.decide(index, decider, index % 3 != 0)
        assert found is not None
        expected, decider_id = found
        call = lambda: change_requests.reject(  # noqa: E731
            expected.id, actor=self.user(decider_id), reason="No"
        )
        if expected.status != "pending" or decider_id in expected.deciders:
            with pytest.raises(Conflict):
                call()
            return
        if decider_id == expected.maker:
            with pytest.raises(Forbidden):
                call()
            return
        expected.levels = max(
            expected.levels, self.levels_for(expected.account, expected.amount, without=expected.id)
        )
        assert call().status == "rejected"
        expected.status = "rejected"

    @precondition(lambda self: bool(self.requests))
    @rule(index=st.integers(0, 50))
    def cancel(self, index: int) -> None:
        ids = sorted(self.requests)
        expected = self.requests[ids[index % len(ids)]]
        if expected.status != "pending":
            with pytest.raises(Conflict):
                change_requests.cancel(expected.id, actor=self.user(expected.maker))
            return
        assert change_requests.cancel(expected.id, actor=self.user(expected.maker)).status == (
            "cancelled"
        )
        expected.status = "cancelled"

    @rule(levels=st.sampled_from([1, 2]))
    def set_default_policy(self, levels: int) -> None:
        roles = [[STAFF_APPROVER]] * levels
        with write_transaction() as s:
            policies.install_version(
                s, "default", {"levels": levels, "roles_per_level": roles}, created_by_id=self.admin
            )
        self.default_levels = levels

    # --- invariants ------------------------------------------------------------------

    @invariant()
    def balances_are_funding_plus_approved_requests(self) -> None:
        db.session.rollback()
        stored = dict(
            db.session.execute(
                sa.select(Account.id, Account.balance_minor).where(Account.id.in_(self.accounts))
            ).all()
        )
        assert stored == self.balance

    @invariant()
    def approved_requests_had_their_approvals(self) -> None:
        ids = list(self.requests)
        rows = db.session.scalars(sa.select(ChangeRequest).where(ChangeRequest.id.in_(ids)))
        for request in rows:
            expected = self.requests[request.id]
            assert request.status == expected.status
            decisions = db.session.scalars(
                sa.select(ChangeDecision).where(ChangeDecision.request_id == request.id)
            ).all()
            approvals = [d for d in decisions if d.decision == "approve"]
            assert len({d.decider_id for d in decisions}) == len(decisions)
            assert all(d.decider_id != request.maker_id for d in decisions)
            if request.status in ("approved", "failed"):
                assert len(approvals) == request.levels_required >= expected.levels_at_submit
                if request.amount_minor and request.amount_minor >= LIMIT:
                    assert any(d.level == 2 and d.step_up_used for d in approvals)

    @invariant()
    def single_approvals_stay_under_the_cumulative_limit(self) -> None:
        for customer in set(self.customer_of.values()):
            single = sum(
                r.amount
                for r in self.requests.values()
                if r.status == "approved"
                and r.levels == 1
                and self.customer_of[r.account] == customer
            )
            assert single < LIMIT

    def teardown(self) -> None:
        assert verify_ledger() == []
        with write_transaction() as s:  # leave the defaults for the next example
            policies.install_version(
                s,
                "default",
                {"levels": 1, "roles_per_level": [[STAFF_APPROVER]]},
                created_by_id=None,
            )


def test_change_request_state_machine(app: Flask) -> None:
    run_state_machine_as_test(ChangeMachine, settings=SETTINGS)
