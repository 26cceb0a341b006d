"""The ``conversions`` policy: 0 levels by default (a customer's own money between their own
accounts), and a policy naming an action wins over the generic ones (``*``, ``money``)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models.user import STAFF_APPROVER
from vaulta.services.changes import policies, policy_actions
from vaulta.services.errors import InvalidInput
from vaulta.services.unit_of_work import write_transaction


def _facts(action: str, amount: int = 5_000_000) -> policies.Facts:
    return policies.Facts(action, amount, "EUR", None, None, None, "customer")


def test_a_conversion_needs_nobody_even_when_large(app: Flask) -> None:
    outcome = policies.evaluate_facts(db.session, _facts("ledger.conversion"))
    assert (outcome.name, outcome.levels) == ("conversions", 0)
    # The generic policies still apply to the other actions.
    assert policies.evaluate_facts(db.session, _facts("ledger.deposit")).levels == 2
    assert policies.evaluate_facts(db.session, _facts("ledger.deposit", 100)).levels == 1


def test_the_bank_can_require_approval_for_conversions(app: Flask) -> None:
    with write_transaction() as s:
        policies.install_version(
            s,
            "conversions",
            {"levels": 1, "roles_per_level": [[STAFF_APPROVER]]},
            created_by_id=None,
        )
    assert policies.evaluate_facts(db.session, _facts("ledger.conversion")).levels == 1


def test_only_a_self_service_action_may_have_zero_levels(app: Flask) -> None:
    fields = {"action": "ledger.conversion", "levels": 0, "roles_per_level": []}
    assert policy_actions.clean_fields(fields)["levels"] == 0
    with pytest.raises(InvalidInput, match="at least 1"):
        policy_actions.clean_fields(fields | {"action": "ledger.deposit"})
    with pytest.raises(InvalidInput, match="at least 1"):
        policy_actions.clean_fields(fields | {"action": "*"})


def test_the_policies_page_shows_the_conversions_policy(
    app: Flask, admin_client: WebClient
) -> None:
    html = admin_client.get("/admin/policies").get_data(as_text=True)
    assert 'id="policy-conversions"' in html
    assert admin_client.get("/admin/policies/conversions").status_code == 200
