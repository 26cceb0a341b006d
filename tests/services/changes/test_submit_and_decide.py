"""Change requests of the ledger: four eyes, levels, step-up, cumulative limits,
rechecks, duplicates, cancel and expiry (services, both databases)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests import factories
from tests.helpers import audit_actions, balance
from tests.services.changes.support import (
    approve_with_code,
    deposit,
    event_types,
    funded_account,
    reload,
    withdrawal,
)
from vaulta.models import User, utcnow
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes import change_requests
from vaulta.services.errors import Conflict, Forbidden


def test_deposit_needs_one_approver_other_than_the_maker(teller: User, approver: User) -> None:
    account = funded_account()
    request = deposit(teller, account, 50_00)
    assert request.status == "pending"
    assert request.levels_required == 1
    assert balance(account) == 0
    with pytest.raises(Forbidden):
        change_requests.approve(request.id, actor=teller)
    done = change_requests.approve(request.id, actor=approver)
    assert done.status == "approved"
    assert done.result is not None
    assert balance(account) == 50_00
    assert audit_actions("change_request", request.id) == [
        "change_request.submit",
        "change_request.approve",
        "change_request.execute",
    ]
    assert event_types(request.id) == ["change_request.created", "change_request.decided"]


def test_large_deposit_needs_two_approvers_and_step_up_at_level_two(
    teller: User, approver: User, second_approver: User
) -> None:
    account = funded_account()
    request = deposit(teller, account, 1_000_000)
    assert request.levels_required == 2
    assert request.step_up_levels == [2]
    first = change_requests.approve(request.id, actor=approver)
    assert first.status == "pending"
    assert balance(account) == 0
    with pytest.raises(Conflict):
        change_requests.approve(request.id, actor=approver)
    with pytest.raises(change_requests.StepUpRequired):
        change_requests.approve(request.id, actor=second_approver)
    assert balance(account) == 0
    done = approve_with_code(request.id, second_approver)
    assert done.status == "approved"
    assert balance(account) == 1_000_000


def test_cumulative_rule_counts_pending_requests_of_the_same_customer(
    teller: User, approver: User
) -> None:
    account = funded_account()
    first = deposit(teller, account, 999_999)
    second = deposit(teller, account, 2)
    assert first.levels_required == 1
    assert second.levels_required == 2
    # Deciding the first now sees the second: it needs two approvers as well.
    after = change_requests.approve(first.id, actor=approver)
    assert after.status == "pending"
    assert after.levels_required == 2
    assert balance(account) == 0


def test_recheck_failure_marks_failed_and_moves_nothing(teller: User, approver: User) -> None:
    account = funded_account(100_00)
    first = withdrawal(teller, account, 80_00)
    second = withdrawal(teller, account, 70_00)
    change_requests.approve(first.id, actor=approver)
    failed = change_requests.approve(second.id, actor=approver)
    assert failed.status == "failed"
    assert "Insufficient funds" in (failed.failure_reason or "")
    assert balance(account) == 20_00
    assert "change_request.fail" in audit_actions("change_request", second.id)


def test_duplicate_pending_request_is_refused_with_the_first_id(teller: User) -> None:
    account = funded_account()
    first = deposit(teller, account, 10_00)
    with pytest.raises(change_requests.DuplicateRequest) as refused:
        deposit(teller, account, 10_00, description="Again")
    assert refused.value.first_id == first.id
    assert f"#{first.id}" in refused.value.message
    deposit(teller, account, 11_00)  # a different amount is another request


def test_cancel_by_the_maker_only(teller: User, approver: User) -> None:
    account = funded_account()
    request = deposit(teller, account, 10_00)
    with pytest.raises(Forbidden):
        change_requests.cancel(request.id, actor=approver)
    assert change_requests.cancel(request.id, actor=teller).status == "cancelled"
    with pytest.raises(Conflict):
        change_requests.approve(request.id, actor=approver)
    assert balance(account) == 0


def test_expiry(teller: User, approver: User) -> None:
    account = funded_account()
    request = deposit(teller, account, 10_00)
    assert change_requests.expire_due(utcnow() + timedelta(hours=73)) == 1
    assert reload(request.id).status == "expired"
    with pytest.raises(Conflict):
        change_requests.approve(request.id, actor=approver)
    assert event_types(request.id)[-1] == "change_request.decided"


def test_a_role_not_allowed_at_the_level_cannot_decide(teller: User) -> None:
    other_teller = factories.make_staff("t2@example.test", "teller")
    request = deposit(teller, funded_account(), 10_00)
    with pytest.raises(Forbidden):
        change_requests.approve(request.id, actor=other_teller)
    both = factories.make_staff("both@example.test", STAFF_APPROVER, "teller")
    assert change_requests.approve(request.id, actor=both).status == "approved"
