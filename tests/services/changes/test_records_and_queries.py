"""Change requests: audit and outbox records commit with the change (and vanish with a
rollback), reversals, idempotency keys, policies that raise or need nobody, and the
inbox's queries."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories
from tests.helpers import audit_actions, audit_events, balance, count_rows
from tests.services.changes.support import (
    approve_with_code,
    deposit,
    event_types,
    funded_account,
    reload,
)
from vaulta.models import AuditEvent, ChangeDecision, ChangeRequest, OutboxEvent, Transaction, User
from vaulta.models.user import STAFF_APPROVER
from vaulta.services import ledger
from vaulta.services.changes import actions, change_queries, change_requests, policies
from vaulta.services.changes.change_queries import InboxFilters
from vaulta.services.errors import Conflict, InvalidInput
from vaulta.services.events import outbox
from vaulta.services.unit_of_work import write_transaction


def _set_policy(name: str, **fields: Any) -> None:
    with write_transaction() as s:
        policies.install_version(s, name, fields, created_by_id=None)


def test_a_failed_write_leaves_no_request_no_audit_and_no_event(
    teller: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = funded_account()
    before = (count_rows(AuditEvent), count_rows(OutboxEvent))

    def broken(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(outbox, "emit", broken)
    monkeypatch.setattr("vaulta.services.events.emit", broken)
    with pytest.raises(RuntimeError, match="outbox down"):
        deposit(teller, account, 10_00)
    assert count_rows(ChangeRequest, fresh=True) == 0
    assert (count_rows(AuditEvent), count_rows(OutboxEvent)) == before


def test_an_execution_crash_rolls_the_whole_decision_back(
    teller: User, approver: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = funded_account()
    request = deposit(teller, account, 10_00)
    events_before = event_types(request.id)

    def crash(*_args: object) -> dict[str, Any]:
        raise RuntimeError("disk full")

    crashing = dataclasses.replace(actions.get_action("ledger.deposit"), execute=crash)
    monkeypatch.setitem(actions.ACTIONS, "ledger.deposit", crashing)
    with pytest.raises(RuntimeError, match="disk full"):
        change_requests.approve(request.id, actor=approver)
    after = reload(request.id)
    assert after.status == "pending"
    assert after.levels_approved == 0
    assert count_rows(ChangeDecision) == 0
    assert audit_actions("change_request", request.id) == ["change_request.submit"]
    assert event_types(request.id) == events_before
    assert balance(account) == 0


def test_audit_events_carry_the_policy_version(teller: User, approver: User) -> None:
    request = deposit(teller, funded_account(), 10_00)
    change_requests.approve(request.id, actor=approver)
    for event in audit_events("change_request", request.id):
        assert event.details["policy_version"] == 1
        assert event.details["policy_id"] == request.policy_id


def test_a_reversal_is_a_request_too(teller: User, approver: User, admin: User) -> None:
    account = funded_account(400_00)
    original = ledger.deposit(account, 100_00, actor=admin, description="To reverse")
    params = {"transaction_id": original.id, "reason": "Keyed twice"}
    request = change_requests.submit("ledger.reversal", params, actor=teller)
    assert request.target_type == "transaction"
    assert request.amount_minor == 100_00
    with pytest.raises(change_requests.DuplicateRequest):
        change_requests.submit("ledger.reversal", params, actor=teller)
    done = change_requests.approve(request.id, actor=approver)
    assert done.status == "approved"
    assert balance(account) == 400_00
    reversal = done.result["transaction_id"]  # type: ignore[index]
    assert count_rows(Transaction, Transaction.reverses_id == original.id) == 1
    assert reversal != original.id
    with pytest.raises(Conflict, match="already been reversed"):
        change_requests.submit("ledger.reversal", params, actor=teller)


def test_an_idempotency_key_returns_the_first_request(teller: User) -> None:
    account = funded_account()
    first = deposit(teller, account, 10_00, idempotency_key="k-1")
    again = deposit(teller, account, 10_00, idempotency_key="k-1")
    assert again.id == first.id
    other = factories.make_staff("t3@example.test", "teller")
    with pytest.raises(Conflict):
        deposit(other, account, 12_00, idempotency_key="k-1")


def test_a_policy_needing_nobody_executes_at_once(teller: User) -> None:
    _set_policy("default", levels=0, roles_per_level=[])
    account = funded_account()
    request = deposit(teller, account, 10_00)
    assert request.status == "approved"
    assert request.levels_required == 0
    assert balance(account) == 10_00
    assert event_types(request.id) == ["change_request.created", "change_request.decided"]


def test_a_stricter_policy_in_force_at_decision_is_recorded(
    teller: User, approver: User, second_approver: User
) -> None:
    account = funded_account()
    request = deposit(teller, account, 10_00)
    assert request.levels_required == 1
    _set_policy("default", levels=2, roles_per_level=[[STAFF_APPROVER], [STAFF_APPROVER]])
    after = change_requests.approve(request.id, actor=approver)
    assert after.status == "pending"
    assert after.levels_required == 2
    assert after.policy_version == 2
    assert "change_request.policy_raised" in audit_actions("change_request", request.id)
    assert balance(account) == 0
    assert change_requests.approve(request.id, actor=second_approver).status == "approved"
    assert balance(account) == 10_00


def test_reject_needs_a_reason_and_ends_the_request(teller: User, approver: User) -> None:
    request = deposit(teller, funded_account(), 10_00)
    with pytest.raises(InvalidInput):
        change_requests.reject(request.id, actor=approver, reason="  ")
    rejected = change_requests.reject(request.id, actor=approver, reason="No cash seen")
    assert rejected.status == "rejected"
    with pytest.raises(Conflict):
        change_requests.approve(request.id, actor=approver)


def test_a_wrong_step_up_code_is_refused(
    teller: User, approver: User, second_approver: User
) -> None:
    account = funded_account()
    request = deposit(teller, account, 2_000_000)
    change_requests.approve(request.id, actor=approver)
    assert change_requests.needs_step_up(reload(request.id), second_approver)
    change_requests.send_step_up_code(request.id, actor=second_approver)
    with pytest.raises(InvalidInput):
        change_requests.approve(request.id, actor=second_approver, step_up_code="000000x")
    assert balance(account) == 0
    assert approve_with_code(request.id, second_approver).status == "approved"
    decision = reload(request.id).decisions[-1]
    assert (decision.level, decision.step_up_used) == (2, True)


def test_the_inbox_shows_what_each_user_may_decide(
    teller: User, approver: User, second_approver: User, admin: User
) -> None:
    account = funded_account()
    small = deposit(teller, account, 10_00)
    large = deposit(teller, account, 1_500_000)
    change_requests.approve(large.id, actor=approver)
    assert [r.id for r in change_queries.decidable_for(approver)] == [small.id]
    assert [r.id for r in change_queries.decidable_for(second_approver)] == [small.id, large.id]
    assert change_queries.decidable_count(second_approver) == 2
    assert change_queries.decidable_for(teller) == []
    assert change_queries.decidable_count(admin) == 0
    big_only = InboxFilters(min_amount_minor=1_000_000)
    assert [r.id for r in change_queries.decidable_for(second_approver, filters=big_only)] == [
        large.id
    ]
    page = change_queries.decidable_for(second_approver, limit=1)
    assert [r.id for r in page] == [small.id]
    after = change_queries.decidable_for(second_approver, limit=1, after_id=page[-1].id)
    assert [r.id for r in after] == [large.id]
    mine = change_queries.made_by(teller)
    assert [r.id for r in mine] == [large.id, small.id]
    assert mine[0].maker_email == teller.email
    detail = change_queries.request_detail(large.id)
    assert [d.decider_id for d in detail.decisions] == [approver.id]
    assert detail.request.change["after"]["balance_minor"] == 1_500_000
    assert change_queries.pending_duplicate(small.dedupe_key or "") == small.id
    assert count_rows(ChangeRequest, sa.true()) == 2
