"""Staff API keys: made by an administrator (service or CLI), audited, and worth the
login's permissions narrowed by the key's scopes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from tests import factories
from tests.api.conftest import make_key
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import ApiKey, AuditEvent, User
from vaulta.services.errors import Forbidden, InvalidInput
from vaulta.services.identity import api_keys, permissions, roles


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_a_staff_key_carries_the_logins_permissions_narrowed_by_its_scopes(
    client: WebClient, auditor: User
) -> None:
    narrow = api_keys.create_for_staff(auditor, "Audit export", ["audit.read"], actor=None).raw
    me = client.get("/api/v1/me", headers=bearer(narrow))
    assert me.status_code == 200
    assert me.json == {
        "email": auditor.email,
        "roles": ["auditor"],
        "scopes": ["audit.read"],
        "permissions": ["audit.read"],
    }
    wide = api_keys.create_for_staff(auditor, "Reads", ["read"], actor=None).raw
    granted = set(client.get("/api/v1/me", headers=bearer(wide)).json["permissions"])
    assert granted == permissions.key_permissions(auditor, ["read"])
    assert {"audit.read", "customers.read", "ledger.read"} <= granted
    assert "audit.export" not in granted  # not a read: it needs its own scope


def test_a_customers_key_reports_its_scopes(client: WebClient, customer_user: User) -> None:
    raw = make_key(customer_user, ("read",))
    me = client.get("/api/v1/me", headers=bearer(raw)).json
    assert me["roles"] == ["customer"]
    assert me["permissions"] == ["own.accounts.read", "own.payments.read"]


def test_staff_keys_are_made_by_admins_and_audited(
    app: Flask, admin: User, teller: User, customer_user: User
) -> None:
    new = api_keys.create_for_staff(
        teller, "Branch tool", ["ledger.deposit.request", "read"], actor=admin
    )
    assert new.raw.startswith("vk_")
    stored = db.session.get(ApiKey, new.key.id)
    assert stored is not None
    assert new.raw.rsplit("_", 1)[-1] not in stored.secret_hash  # only the hash is kept
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "api_key.created")
    ).one()
    assert event.actor_id == admin.id
    assert event.details["owner_id"] == teller.id
    assert event.details["scopes"] == ["ledger.deposit.request", "read"]
    with pytest.raises(Forbidden):
        api_keys.create_for_staff(teller, "Mine", ["read"], actor=teller)
    with pytest.raises(Forbidden):  # staff do not make their own keys in Settings
        api_keys.create(teller, "Mine", ["read"])
    with pytest.raises(InvalidInput):  # customers make their own
        api_keys.create_for_staff(customer_user, "Theirs", ["read"], actor=admin)


@pytest.mark.parametrize("scopes", [[], ["payments:write"], ["requests.decide"], ["nope"]])
def test_a_staff_key_names_only_scopes_its_login_holds(
    app: Flask, teller: User, scopes: list[str]
) -> None:
    with pytest.raises(InvalidInput):
        api_keys.create_for_staff(teller, "Key", scopes, actor=None)


def test_a_key_of_a_login_that_lost_its_role_loses_the_permission(
    client: WebClient, admin: User
) -> None:
    auditor = factories.make_staff("gone@example.test", "auditor")
    raw = api_keys.create_for_staff(auditor, "Reads", ["read"], actor=None).raw
    roles.revoke_role(auditor.id, "auditor", actor=admin)
    assert client.get("/api/v1/me", headers=bearer(raw)).json["permissions"] == []
