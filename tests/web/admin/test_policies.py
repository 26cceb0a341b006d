"""/admin/policies: the policies in force, each policy's versions, and the edit form that
asks for a ``policies.update`` change request (two approvers; a new version once approved)."""

from __future__ import annotations

from tests.change_steps import approve, request_id_in
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services.changes import policies


def _form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "description": "Every action: one approver other than the maker.",
        "action": "*",
        "priority": "0",
        "levels": "1",
        "roles_1": ["approver"],
        "enabled": "y",
        "bulk_allowed": "y",
    }
    return data | changes


def test_the_index_shows_the_seeded_policies(admin_client: WebClient) -> None:
    html = admin_client.get("/admin/policies").get_data(as_text=True)
    for name in ("default", "money-large", "money-customer-24h", "policy-changes"):
        assert f'id="policy-{name}"' in html
    assert "amount ≥ 10,000.00" in html
    assert "customer's total in 24 h reaches 10,000.00" in html
    assert "2: approver (step-up)" in html
    assert 'href="/admin/policies"' in html  # in the navigation


def test_the_policy_page_shows_the_history_and_the_form(admin_client: WebClient) -> None:
    html = admin_client.get("/admin/policies/money-large").get_data(as_text=True)
    assert 'id="policy-history"' in html
    assert 'id="policy-form"' in html
    assert 'value="10000.00"' in html
    assert "current" in html


def test_an_edit_is_a_request_and_a_new_version_once_two_approve(
    admin_client: WebClient, admin: User, approver: User, second_approver: User
) -> None:
    response = admin_client.post_form(
        "/admin/policies/default",
        _form(levels="2", roles_2=["approver"], step_up_2="y"),
    )
    assert response.status_code == 302
    assert response.location == "/admin/policies/default"
    request_id = request_id_in(admin_client.get(response.location).get_data(as_text=True))
    assert policies.policy_history(db.session, "default")[0].version == 1
    request = approve(request_id, approver, second_approver)
    assert request.status == "approved"
    newest = policies.policy_history(db.session, "default")[0]
    assert (newest.version, newest.levels, newest.step_up_levels) == (2, 2, [2])
    html = admin_client.get("/admin/policies/default").get_data(as_text=True)
    assert html.count("<tr>") >= 2  # both versions


def test_amounts_are_typed_in_major_units(
    admin_client: WebClient, approver: User, second_approver: User
) -> None:
    admin_client.post_form(
        "/admin/policies/usd-large",
        _form(action="money", min_amount="5,000.50", currency="USD", bulk_allowed=""),
    )
    request_id = request_id_in(admin_client.get("/admin/policies/usd-large").get_data(as_text=True))
    approve(request_id, approver, second_approver)
    (policy,) = policies.policy_history(db.session, "usd-large")
    assert (policy.min_amount_minor, policy.currency, policy.bulk_allowed) == (
        500_050,
        "USD",
        False,
    )


def test_invalid_edits_are_422_with_the_reason(admin_client: WebClient) -> None:
    response = admin_client.post_form("/admin/policies/default", _form(roles_1=["teller"]))
    assert response.status_code == 422
    assert "may decide requests" in response.get_data(as_text=True)
    response = admin_client.post_form("/admin/policies/default", _form(min_amount="abc"))
    assert response.status_code == 422
    response = admin_client.post_form(
        "/admin/policies/policy-changes",
        _form(action="policies.update", levels="1"),
    )
    assert response.status_code == 422
    assert "policy over policy changes" in response.get_data(as_text=True)
    same = admin_client.post_form("/admin/policies/default", _form())
    assert same.status_code == 422
    assert "Nothing to change" in same.get_data(as_text=True)


def test_a_new_policy_name_opens_its_form(admin_client: WebClient) -> None:
    response = admin_client.get("/admin/policies?name=close-two")
    assert response.status_code == 302
    assert response.location == "/admin/policies/close-two"
    html = admin_client.get(response.location).get_data(as_text=True)
    assert "A new policy: no version yet." in html
    assert admin_client.get("/admin/policies/Bad%20Name").status_code == 422
