"""API keys: format, only a hash stored, revocation, expiry, ownership, the settings page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import ApiKey, AuditEvent, User, utcnow
from vaulta.services.errors import Forbidden, InvalidInput, NotFound
from vaulta.services.identity import api_keys

KEY_FORMAT = re.compile(r"^vk_([A-Za-z0-9]{8,12})_([A-Za-z0-9_-]{32,})$")


def _all_stored_text() -> str:
    """Every column of every api_keys and audit_events row, as text."""
    rows = db.session.execute(sa.text("SELECT * FROM api_keys")).all()
    rows += db.session.execute(sa.text("SELECT * FROM audit_events")).all()
    return " ".join(str(value) for row in rows for value in row)


def test_a_new_key_has_the_format_and_enough_randomness(customer_user: User) -> None:
    new = api_keys.create(customer_user, "Bookkeeping", ["read"])
    match = KEY_FORMAT.match(new.raw)
    assert match, new.raw
    prefix, secret = match.groups()
    assert len(secret) * 6 >= 128  # url-safe base64: 6 bits a character
    assert new.key.prefix == prefix
    assert new.key.last_four == new.raw[-4:]
    assert api_keys.scopes_of(new.key) == ["read"]
    assert new.key.expires_at is None


def test_only_a_hash_of_the_secret_is_stored(customer_user: User) -> None:
    new = api_keys.create(customer_user, "Bookkeeping", ["read", "payments:write"])
    secret = new.raw.split("_", 2)[2]
    db.session.expire_all()
    stored = _all_stored_text()
    assert new.key.prefix in stored
    assert secret not in stored
    assert new.raw not in stored
    assert secret[:-4] not in stored  # not even most of it
    key = db.session.get(ApiKey, new.key.id)
    assert key.secret_hash == api_keys.hash_secret(secret)


def test_authenticate_returns_the_owner_and_records_the_use(customer_user: User) -> None:
    new = api_keys.create(customer_user, "Bookkeeping", ["read"])
    assert new.key.last_used_at is None
    result = api_keys.authenticate(new.raw)
    assert result is not None
    user, key = result
    assert user.id == customer_user.id
    assert key.id == new.key.id
    assert key.last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # wrong secret
        lambda raw: "vk_" + "Z" * 10 + raw[13:],  # unknown prefix
        lambda raw: raw.replace("vk_", "xk_", 1),
        lambda raw: raw[:14],
        lambda raw: "",
        lambda raw: "Bearer " + raw,
    ],
)
def test_wrong_or_malformed_keys_are_refused(customer_user: User, mangle) -> None:  # type: ignore[no-untyped-def]
    new = api_keys.create(customer_user, "Bookkeeping", ["read"])
    assert api_keys.authenticate(mangle(new.raw)) is None


def test_a_revoked_key_is_refused_and_the_revocation_audited(customer_user: User) -> None:
    new = api_keys.create(customer_user, "Bookkeeping", ["read"])
    api_keys.revoke(customer_user, new.key.id)
    assert api_keys.authenticate(new.raw) is None
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.object_type == "api_key")
    ).all()
    assert sorted(actions) == ["api_key.created", "api_key.revoked"]


def test_an_expired_key_is_refused(customer_user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    new = api_keys.create(customer_user, "Short-lived", ["read"], utcnow() + timedelta(hours=1))
    assert api_keys.authenticate(new.raw) is not None
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(api_keys, "utcnow", lambda: later)
    assert api_keys.authenticate(new.raw) is None


def test_another_users_key_cannot_be_revoked(
    customer_user: User, other_customer_user: User
) -> None:
    new = api_keys.create(customer_user, "Mine", ["read"])
    with pytest.raises(NotFound):
        api_keys.revoke(other_customer_user, new.key.id)
    with pytest.raises(NotFound):
        api_keys.revoke(other_customer_user, 999_999)
    assert api_keys.authenticate(new.raw) is not None
    assert [k.name for k in api_keys.list_keys(other_customer_user)] == []
    assert [k.name for k in api_keys.list_keys(customer_user)] == ["Mine"]


@pytest.mark.parametrize(
    ("name", "scopes", "in_hours", "field"),
    [
        ("", ["read"], None, "name"),
        ("x" * 101, ["read"], None, "name"),
        ("Key", [], None, "scopes"),
        ("Key", ["admin"], None, "scopes"),
        ("Key", ["read"], -1, "expires_at"),
    ],
)
def test_invalid_keys_are_refused(
    customer_user: User, name: str, scopes: list[str], in_hours: int | None, field: str
) -> None:
    expires_at = utcnow() + timedelta(hours=in_hours) if in_hours is not None else None
    with pytest.raises(InvalidInput) as err:
        api_keys.create(customer_user, name, scopes, expires_at)
    assert err.value.field == field


def test_admins_get_no_api_keys(admin: User) -> None:
    with pytest.raises(Forbidden):
        api_keys.create(admin, "Admin key", ["read"])


# --- The settings page ------------------------------------------------------------------------


def _create(client: WebClient, **data: object):
    form = {"name": "Bookkeeping", "scopes": ["read"], **data}
    return client.post_form("/settings/api-keys", form)


def test_the_key_is_shown_once_then_only_its_prefix_and_last_four(
    customer_client: WebClient,
) -> None:
    response = _create(customer_client, scopes=["read", "payments:write"], expires_on="2999-12-31")
    assert response.status_code == 201
    raw = re.search(r'<code id="new-api-key">([^<]+)</code>', response.text)
    assert raw
    assert KEY_FORMAT.match(raw[1])
    page = customer_client.get("/settings")
    assert raw[1] not in page.text
    prefix, last_four = raw[1].split("_")[1], raw[1][-4:]
    assert f"vk_{prefix}_…{last_four}" in page.text
    assert "read, payments:write" in page.text
    assert "3000-01-01 00:00 UTC" in page.text  # valid through the chosen day
    assert "never" in page.text  # last used


def test_the_htmx_form_swaps_the_keys_section(customer_client: WebClient) -> None:
    response = customer_client.htmx(
        "POST", "/settings/api-keys", data={"name": "CI", "scopes": ["read"]}
    )
    assert response.status_code == 201
    assert response.text.lstrip().startswith('<section id="api-keys">')
    assert "<html" not in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["Cache-Control"] == "no-store"


def test_invalid_input_is_shown_on_the_form(customer_client: WebClient) -> None:
    response = _create(customer_client, name="", scopes=[])
    assert response.status_code == 422
    assert "Choose at least one scope." in response.text
    assert 'id="new-api-key"' not in response.text
    past = _create(customer_client, expires_on="2000-01-01")
    assert past.status_code == 422
    assert "The expiry must be in the future." in past.text


def test_revoke_from_the_page(customer_client: WebClient, customer_user: User) -> None:
    new = api_keys.create(customer_user, "Old", ["read"])
    response = customer_client.post_form(f"/settings/api-keys/{new.key.id}/revoke")
    assert response.status_code == 302
    assert "revoked" in customer_client.get("/settings").text
    assert api_keys.authenticate(new.raw) is None
    partial = customer_client.htmx("POST", f"/settings/api-keys/{new.key.id}/revoke")
    assert partial.status_code == 200  # revoking twice is harmless
    assert "is revoked" in partial.text


def test_another_customers_key_is_not_found_on_the_page(
    app: Flask, customer_client: WebClient, other_customer_user: User
) -> None:
    theirs = api_keys.create(other_customer_user, "Theirs", ["read"])
    response = customer_client.post_form(f"/settings/api-keys/{theirs.key.id}/revoke")
    assert response.status_code == 404
    assert api_keys.authenticate(theirs.raw) is not None
    assert "Theirs" not in customer_client.get("/settings").text


def test_key_routes_need_csrf(customer_client: WebClient, customer_user: User) -> None:
    new = api_keys.create(customer_user, "Old", ["read"])
    assert customer_client.post("/settings/api-keys", data={"name": "x"}).status_code == 400
    assert customer_client.post(f"/settings/api-keys/{new.key.id}/revoke").status_code == 400


@pytest.mark.parametrize(
    ("who", "settings_status", "create_status"),
    [("anonymous", 302, 302), ("customer", 200, 201), ("admin", 200, 403)],
)
def test_settings_access(
    client: WebClient,
    admin: User,
    customer_user: User,
    who: str,
    settings_status: int,
    create_status: int,
) -> None:
    if who != "anonymous":
        client.sign_in(admin if who == "admin" else customer_user)
    page = client.get("/settings")
    assert page.status_code == settings_status
    if who != "anonymous":
        assert 'href="/settings"' in page.text  # in the navigation
        assert "Sign out everywhere" in page.text
    assert _create(client).status_code == create_status
