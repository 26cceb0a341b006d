"""Staff roles and staff API keys as change requests: an admin asks, another person
approves; a staff key is shown once when asked and authenticates only once approved."""

from __future__ import annotations

import pytest

from tests import factories
from tests.helpers import audit_events
from tests.services.change_actions.support import ask, decide
from vaulta.extensions import db
from vaulta.models import ApiKey, User
from vaulta.models.user import STAFF_AUDITOR
from vaulta.services.changes import identity_actions
from vaulta.services.changes.change_requests import DuplicateRequest
from vaulta.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from vaulta.services.identity import api_keys, roles


def _roles(user: User) -> set[str]:
    db.session.rollback()
    fresh = db.session.get(User, user.id, populate_existing=True)
    assert fresh is not None
    return set(fresh.role_names)


def test_grant_and_revoke_a_role(admin: User, teller: User, approver: User) -> None:
    request = ask(admin, "role.grant", user_id=teller.id, role="auditor")
    assert request.change["before"] == {"roles": ["teller"]}
    assert request.change["after"] == {"roles": ["auditor", "teller"]}
    with pytest.raises(DuplicateRequest):
        ask(admin, "role.grant", user_id=teller.id, role="auditor")  # the same again
    assert _roles(teller) == {"teller"}
    decide(request, approver)
    assert _roles(teller) == {"teller", "auditor"}
    decide(ask(admin, "role.revoke", user_id=teller.id, role="teller"), approver)
    assert _roles(teller) == {"auditor"}
    actions = [(e.action, e.actor_id) for e in audit_events("user", teller.id)]
    assert ("user.role_granted", admin.id) in actions
    assert ("user.role_revoked", admin.id) in actions


def test_role_requests_are_checked_when_asked(admin: User, teller: User, approver: User) -> None:
    with pytest.raises(Forbidden):
        ask(teller, "role.grant", user_id=approver.id, role="teller")  # roles.manage
    with pytest.raises(InvalidInput):
        ask(admin, "role.grant", user_id=admin.id, role="approver")  # never one's own
    with pytest.raises(InvalidInput):
        ask(admin, "role.grant", user_id=teller.id, role="superuser")
    with pytest.raises(Conflict):
        ask(admin, "role.grant", user_id=teller.id, role="teller")
    with pytest.raises(Conflict):
        ask(admin, "role.revoke", user_id=teller.id, role="auditor")
    customer = factories.make_customer_login("role-customer@example.test")
    with pytest.raises(NotFound):
        ask(admin, "role.grant", user_id=customer.id, role="teller")


def test_a_role_request_fails_when_granted_meanwhile(
    admin: User, teller: User, approver: User
) -> None:
    request = ask(admin, "role.grant", user_id=teller.id, role="auditor")
    roles.grant_role(teller.id, "auditor", actor=None)  # the command line, meanwhile
    failed = decide(request, approver)
    assert failed.status == "failed"
    assert "already holds the auditor role" in (failed.failure_reason or "")


def test_a_staff_key_works_only_once_approved(admin: User, auditor: User, approver: User) -> None:
    request, raw = identity_actions.request_staff_key(
        auditor.id, "Audit export", ["audit.read", "read"], actor=admin
    )
    params = request.change["params"]
    assert raw.startswith(f"vk_{params['prefix']}_")
    assert raw not in str(request.change)  # only its hash is kept
    assert params["secret_hash"] == api_keys.hash_secret(raw.split("_", 2)[2])
    assert api_keys.authenticate(raw) is None  # no key yet
    assert db.session.query(ApiKey).count() == 0
    done = decide(request, approver)
    assert done.status == "approved"
    found = api_keys.authenticate(raw)
    assert found is not None
    user, key = found
    assert user.id == auditor.id
    assert key.id == done.result["api_key_id"]  # type: ignore[index]
    assert api_keys.scopes_of(key) == ["audit.read", "read"]
    (event,) = audit_events("api_key", key.id)
    assert (event.action, event.actor_id) == ("api_key.created", admin.id)


def test_a_rejected_staff_key_never_works(admin: User, auditor: User, approver: User) -> None:
    from vaulta.services.changes import change_requests

    request, raw = identity_actions.request_staff_key(auditor.id, "K", ["read"], actor=admin)
    change_requests.reject(request.id, actor=approver, reason="Not needed")
    assert api_keys.authenticate(raw) is None


def test_staff_key_scopes_are_checked_when_asked_and_decided(
    admin: User, teller: User, approver: User
) -> None:
    with pytest.raises(InvalidInput):
        identity_actions.request_staff_key(teller.id, "K", ["audit.read"], actor=admin)
    with pytest.raises(InvalidInput):
        identity_actions.request_staff_key(teller.id, "K", [], actor=admin)
    with pytest.raises(Forbidden):
        identity_actions.request_staff_key(teller.id, "K", ["read"], actor=teller)
    customer = factories.make_customer_login("key-customer@example.test")
    with pytest.raises(NotFound):
        identity_actions.request_staff_key(customer.id, "K", ["read"], actor=admin)
    # The owner loses the permission before the decision: the request fails.
    request, raw = identity_actions.request_staff_key(
        teller.id, "Deposits", ["ledger.deposit.request"], actor=admin
    )
    roles.grant_role(teller.id, STAFF_AUDITOR, actor=None)
    roles.revoke_role(teller.id, "teller", actor=None)
    failed = decide(request, approver)
    assert failed.status == "failed"
    assert "does not hold" in (failed.failure_reason or "")
    assert api_keys.authenticate(raw) is None


def test_forged_key_parts_are_refused(admin: User, auditor: User) -> None:
    with pytest.raises(InvalidInput):
        ask(
            admin,
            "api_key.create",
            user_id=auditor.id,
            name="K",
            scopes=["read"],
            prefix="short",
            secret_hash="0" * 64,
            last_four="abcd",
        )
