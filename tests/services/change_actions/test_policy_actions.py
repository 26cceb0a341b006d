"""Approval policies as change requests: two approvers, a new version on approval, the
history kept, rules that keep four eyes whatever is edited."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.change_actions.support import ask, decide
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services.changes import policies, policy_actions
from vaulta.services.errors import Conflict, Forbidden, InvalidInput


def _fields(name: str, **changes: Any) -> dict[str, Any]:
    current = policy_actions.current_version(db.session, name)
    assert current is not None
    return {**policies.policy_fields(current), **changes}


def test_a_policy_change_needs_two_approvers_and_adds_a_version(
    admin: User, approver: User, second_approver: User
) -> None:
    fields = _fields("default", levels=2, roles_per_level=[["approver"], ["approver"]])
    request = ask(admin, "policies.update", name="default", fields=fields)
    assert request.levels_required == 2
    assert request.change["before"] == {"levels": 1, "roles_per_level": [["approver"]]}
    assert request.change["after"]["levels"] == 2
    assert decide(request, approver).status == "pending"  # one of two
    assert policy_actions.current_version(db.session, "default").version == 1  # type: ignore[union-attr]
    done = decide(request, second_approver)
    assert done.status == "approved"
    history = policies.policy_history(db.session, "default")
    assert [(p.version, p.is_current, p.levels) for p in history] == [(2, True, 2), (1, False, 1)]
    assert history[0].created_by_id == admin.id
    assert done.result == {"policy_id": history[0].id, "name": "default", "version": 2}


def test_a_new_policy_starts_at_version_one(
    admin: User, approver: User, second_approver: User
) -> None:
    fields = {
        "action": "customer.close",
        "levels": 2,
        "roles_per_level": [["approver"], ["approver"]],
        "description": "Closing a customer: two approvers",
    }
    request = ask(admin, "policies.update", name="customer-close", fields=fields)
    decide(request, approver, second_approver)
    new = policy_actions.current_version(db.session, "customer-close")
    assert new is not None
    assert (new.version, new.levels, new.enabled, new.bulk_allowed) == (1, 2, True, False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"levels": 0, "roles_per_level": []}, "at least 1"),
        ({"levels": 4}, "1 to 3 levels"),
        ({"levels": 2, "roles_per_level": [["approver"]]}, "each level"),
        ({"roles_per_level": [["teller"]]}, "may decide requests"),
        ({"roles_per_level": [["root"]]}, "staff roles"),
        ({"step_up_levels": [2]}, "levels the policy has"),
        ({"action": "nothing.real"}, "Choose an action"),
        ({"currency": "XXX"}, "Choose one of"),
        ({"cumulative_window_hours": 24}, "cumulative condition"),
        ({"min_amount_minor": -1}, "at least"),
        ({"description": "tab\u202e"}, "character"),
    ],
)
def test_invalid_versions_are_refused(admin: User, changes: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ask(admin, "policies.update", name="default", fields=_fields("default", **changes))


def test_the_policy_over_policy_changes_keeps_two_levels(admin: User) -> None:
    for changes in (
        {"levels": 1, "roles_per_level": [["approver"]]},
        {"enabled": False},
        {"action": "*"},
    ):
        with pytest.raises(InvalidInput, match="policy over policy changes"):
            ask(
                admin,
                "policies.update",
                name="policy-changes",
                fields=_fields("policy-changes", **changes),
            )


def test_only_policy_managers_ask_and_nothing_unchanged(admin: User, teller: User) -> None:
    with pytest.raises(Forbidden):
        ask(teller, "policies.update", name="default", fields=_fields("default", priority=5))
    with pytest.raises(InvalidInput, match="Nothing to change"):
        ask(admin, "policies.update", name="default", fields=_fields("default"))
    with pytest.raises(InvalidInput, match="lower-case"):
        ask(admin, "policies.update", name="Bad Name", fields=_fields("default", priority=5))


def test_a_request_made_on_an_older_version_fails(
    admin: User, approver: User, second_approver: User
) -> None:
    first = ask(admin, "policies.update", name="default", fields=_fields("default", priority=5))
    decide(first, approver, second_approver)
    # Another request from version 1 cannot exist (dedupe), so make a stale one by hand:
    stale = ask(admin, "policies.update", name="default", fields=_fields("default", priority=7))
    with db.session.begin():
        stale = db.session.merge(stale)
        stale.change = {**stale.change, "params": {**stale.change["params"], "base_version": 1}}
    failed = decide(stale, approver, second_approver)
    assert failed.status == "failed"
    assert "changed since this request was made" in (failed.failure_reason or "")
    with pytest.raises(Conflict):
        policy_actions.recheck(db.session, failed)
