"""/admin/staff: an admin asks for a role to be granted or removed and for a staff API key;
each takes effect once another person approves (the key is shown once, when asked)."""

from __future__ import annotations

import re

from tests.change_steps import approve, request_id_in
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import User
from vaulta.services.identity import api_keys


def _roles(user: User) -> set[str]:
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh is not None
    return set(fresh.role_names)


def test_the_staff_page_offers_the_requests_to_admins_only(
    admin_client: WebClient, admin: User, teller: User
) -> None:
    html = admin_client.get("/admin/staff").get_data(as_text=True)
    assert f'action="/admin/staff/{teller.id}/roles/grant"' in html
    assert f'action="/admin/staff/{teller.id}/roles/revoke"' in html
    assert f'action="/admin/staff/{teller.id}/api-keys"' in html
    assert f'action="/admin/staff/{admin.id}/roles/grant"' not in html  # never one's own


def test_the_auditor_sees_the_list_without_forms(client: WebClient, auditor: User) -> None:
    client.sign_in(auditor)
    html = client.get("/admin/staff").get_data(as_text=True)
    assert "roles/grant" not in html
    assert "api-keys" not in html


def test_grant_then_remove_a_role(admin_client: WebClient, teller: User, approver: User) -> None:
    response = admin_client.post_form(f"/admin/staff/{teller.id}/roles/grant", {"role": "auditor"})
    assert response.status_code == 302
    assert response.location == "/admin/staff"
    request_id = request_id_in(admin_client.get("/admin/staff").get_data(as_text=True))
    assert _roles(teller) == {"teller"}
    approve(request_id, approver)
    assert _roles(teller) == {"teller", "auditor"}
    admin_client.post_form(f"/admin/staff/{teller.id}/roles/revoke", {"role": "teller"})
    approve(request_id_in(admin_client.get("/admin/staff").get_data(as_text=True)), approver)
    assert _roles(teller) == {"auditor"}


def test_refusals_are_shown(admin_client: WebClient, admin: User, teller: User) -> None:
    admin_client.post_form(f"/admin/staff/{teller.id}/roles/grant", {"role": "teller"})
    assert "already holds the teller role" in admin_client.get("/admin/staff").get_data(
        as_text=True
    )
    admin_client.post_form(f"/admin/staff/{admin.id}/roles/grant", {"role": "approver"})
    assert "Nobody changes their own roles" in admin_client.get("/admin/staff").get_data(
        as_text=True
    )
    admin_client.post_form(f"/admin/staff/{teller.id}/roles/grant", {"role": "root"})
    assert "Choose one of the staff roles." in admin_client.get("/admin/staff").get_data(
        as_text=True
    )
    assert (
        admin_client.post_form("/admin/staff/999999/roles/grant", {"role": "teller"}).status_code
        == 404
    )


def test_a_staff_key_is_shown_once_and_works_once_approved(
    admin_client: WebClient, auditor: User, approver: User
) -> None:
    response = admin_client.post_form(
        f"/admin/staff/{auditor.id}/api-keys", {"name": "Exports", "scopes": "read audit.read"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    match = re.search(r"<code>(vk_[A-Za-z0-9]+_[A-Za-z0-9_-]+)</code>", html)
    assert match is not None
    raw = match.group(1)
    request_id = request_id_in(html)
    assert api_keys.authenticate(raw) is None
    approve(request_id, approver)
    found = api_keys.authenticate(raw)
    assert found is not None
    assert found[0].id == auditor.id
    assert raw not in admin_client.get("/admin/staff").get_data(as_text=True)


def test_a_staff_key_with_a_scope_the_owner_lacks_is_refused(
    admin_client: WebClient, teller: User
) -> None:
    response = admin_client.post_form(
        f"/admin/staff/{teller.id}/api-keys", {"name": "Audit", "scopes": "audit.read"}
    )
    assert response.status_code == 302
    assert "does not hold" in admin_client.get("/admin/staff").get_data(as_text=True)
