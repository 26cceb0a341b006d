"""Roles and permissions without HTTP: the registry, who holds what, granting and removing
roles (audited), and the payment decisions that need ``requests.decide``."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from vaulta import PROJECT_ROOT
from vaulta.extensions import db
from vaulta.models import AuditEvent, User, UserRole
from vaulta.models.user import ROLE_CUSTOMER, ROLE_STAFF
from vaulta.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from vaulta.services.identity import permissions, roles, users
from vaulta.services.identity.permissions import has_permission, permissions_of
from vaulta.services.payments import approvals, bulk_decisions

ORDER = ("admin", "approver", "teller", "auditor", "customer")
MONEY = ("ledger.deposit.request", "ledger.withdrawal.request", "ledger.reversal.request")


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_every_role_names_only_known_permissions() -> None:
    for row in permissions.role_table():
        assert row.permissions, row.name
        assert set(row.permissions) <= set(permissions.PERMISSIONS)
        assert row.description


def test_segregation_of_duties_in_the_registry() -> None:
    grants = permissions.ROLE_PERMISSIONS
    # Admins run the system and move no money, decide nothing.
    assert {"users.manage", "roles.manage", "policies.manage", "system.manage"} <= grants["admin"]
    assert not set(MONEY) & grants["admin"]
    assert "requests.decide" not in grants["admin"]
    # Tellers make requests; approvers decide them; nobody does both by one role.
    assert set(MONEY) | {"payments.request", "customers.manage"} <= grants["teller"]
    assert "requests.decide" not in grants["teller"]
    assert "requests.decide" in grants["approver"]
    assert not set(MONEY) & grants["approver"]
    # Auditors read everything, the audit log and exports included, and change nothing.
    reads = {p for p in permissions.PERMISSIONS if p.endswith(".read") and not p.startswith("own.")}
    assert reads | {"audit.export", "ledger.export"} <= grants["auditor"]
    assert all(p.endswith((".read", ".export", ".dashboard")) for p in grants["auditor"])
    # Customers hold only permissions about their own objects.
    assert all(p.startswith("own.") for p in grants["customer"])


def test_a_staff_login_holds_the_union_of_its_roles(app: Flask) -> None:
    both = factories.make_staff("both@example.test", "teller", "auditor")
    assert both.role_names == {"teller", "auditor"}
    assert permissions_of(both) == (
        permissions.ROLE_PERMISSIONS["teller"] | permissions.ROLE_PERMISSIONS["auditor"]
    )
    assert has_permission(both, "audit.read")
    assert has_permission(both, "ledger.deposit.request")
    assert not has_permission(both, "requests.decide")


def test_customers_nobody_and_deactivated_logins(app: Flask, customer_user: User) -> None:
    assert customer_user.role_names == {ROLE_CUSTOMER}
    assert permissions_of(customer_user) == permissions.ROLE_PERMISSIONS["customer"]
    assert not has_permission(customer_user, "customers.read")
    assert permissions_of(None) == frozenset()
    idle = factories.make_staff("idle@example.test")  # staff without a role: nothing
    assert permissions_of(idle) == frozenset()
    admin = factories.make_admin("off@example.test")
    admin.is_active = False
    db.session.commit()
    assert permissions_of(admin) == frozenset()


def test_an_unknown_permission_is_a_programming_error(app: Flask, admin: User) -> None:
    with pytest.raises(KeyError):
        has_permission(admin, "customers.reed")


def test_key_scopes_narrow_the_users_permissions(app: Flask, customer_user: User) -> None:
    auditor = factories.make_staff("audit@example.test", "auditor")
    assert permissions.key_permissions(auditor, ["read"]) >= {"audit.read", "customers.read"}
    assert permissions.key_permissions(auditor, ["audit.read"]) == {"audit.read"}
    # A scope the user does not hold gives nothing; a write scope is not a read.
    assert permissions.key_permissions(auditor, ["requests.decide"]) == frozenset()
    assert permissions.key_permissions(customer_user, ["read"]) == {
        "own.accounts.read",
        "own.payments.read",
    }
    assert permissions.key_permissions(customer_user, ["payments:write"]) == {
        "own.payments.request",
        "own.conversions.request",
    }


def test_create_staff_login_with_roles_is_audited(app: Flask, admin: User) -> None:
    user = users.create_user(
        "New@Example.test",
        factories.PASSWORD,
        role=ROLE_STAFF,
        full_name="New Teller",
        staff_roles=["Teller", "approver", "teller"],
        actor=admin,
    )
    assert user.role_names == {"teller", "approver"}
    rows = db.session.scalars(sa.select(UserRole).where(UserRole.user_id == user.id)).all()
    assert {(r.role, r.granted_by_id) for r in rows} == {
        ("teller", admin.id),
        ("approver", admin.id),
    }
    [event] = _events("user.created")[-1:]
    assert event.object_id == str(user.id)
    assert event.actor_id == admin.id
    assert event.details == {"email": "new@example.test", "roles": ["approver", "teller"]}


@pytest.mark.parametrize(
    ("kind", "roles_given", "with_customer"),
    [
        (ROLE_STAFF, ["banker"], False),  # unknown role
        (ROLE_CUSTOMER, ["teller"], True),  # customers hold no staff role
        (ROLE_STAFF, ["teller"], True),  # staff belong to no customer
        ("admin", [], False),  # the old kind of login is gone
    ],
)
def test_create_user_refuses_bad_roles(
    app: Flask, kind: str, roles_given: list[str], with_customer: bool
) -> None:
    customer = factories.make_customer() if with_customer else None
    with pytest.raises(InvalidInput):
        users.create_user(
            "x@example.test",
            factories.PASSWORD,
            role=kind,
            full_name="X",
            customer=customer,
            staff_roles=roles_given,
        )


def test_grant_and_revoke_roles(app: Flask, admin: User) -> None:
    user = factories.make_staff("t@example.test", "teller")
    roles.grant_role(user.id, "auditor", actor=admin)
    assert users.find_by_email("t@example.test").role_names == {"teller", "auditor"}
    with pytest.raises(Conflict):
        roles.grant_role(user.id, "auditor", actor=admin)
    roles.revoke_role(user.id, "teller", actor=admin)
    assert users.find_by_email("t@example.test").role_names == {"auditor"}
    with pytest.raises(Conflict):
        roles.revoke_role(user.id, "teller", actor=admin)
    granted, revoked = _events("user.role_granted"), _events("user.role_revoked")
    assert [(e.actor_id, e.details) for e in granted] == [(admin.id, {"role": "auditor"})]
    assert [(e.actor_id, e.details) for e in revoked] == [(admin.id, {"role": "teller"})]


def test_only_role_managers_grant_and_never_to_themselves(
    app: Flask, admin: User, teller: User, customer_user: User
) -> None:
    with pytest.raises(Forbidden):
        roles.grant_role(teller.id, "approver", actor=teller)
    with pytest.raises(InvalidInput):
        roles.grant_role(admin.id, "approver", actor=admin)
    with pytest.raises(NotFound):
        roles.grant_role(customer_user.id, "teller", actor=admin)
    roles.grant_role(teller.id, "approver", actor=None)  # the command line
    assert teller.id in {r.id for r in roles.staff_logins() if "approver" in r.roles}


def test_staff_logins_lists_roles(
    app: Flask, admin: User, teller: User, customer_user: User
) -> None:
    factories.make_staff("norole@example.test")
    found = {r.email: r.roles for r in roles.staff_logins()}
    assert found["admin@example.test"] == ("admin",)
    assert found["teller@example.test"] == ("teller",)
    assert found["norole@example.test"] == ()
    assert "cust@example.test" not in found


def test_deciding_payments_needs_requests_decide(
    app: Flask, admin: User, teller: User, auditor: User
) -> None:
    for actor in (admin, teller, auditor):
        with pytest.raises(Forbidden, match="Only approvers"):
            approvals.approve(1, actor=actor)
        with pytest.raises(Forbidden):
            approvals.reject(1, actor=actor, reason="No")
        with pytest.raises(Forbidden):
            bulk_decisions.execute_batch([1], actor=actor)


def test_the_security_doc_table_matches_the_registry() -> None:
    doc = (Path(PROJECT_ROOT) / "docs" / "security.md").read_text()
    rows = {}
    for line in doc.splitlines():
        if line.startswith("| `") and line.count("|") == 8:
            cells = [c.strip() for c in line.strip("|").split("|")]
            rows[cells[0].strip("`")] = {n for n, c in zip(ORDER, cells[2:], strict=True) if c}
    assert set(rows) == set(permissions.PERMISSIONS)
    for name, holders in rows.items():
        assert holders == {r for r in ORDER if name in permissions.ROLE_PERMISSIONS[r]}, name
