"""API keys: ``vk_<prefix>_<secret>`` bearer keys for a customer's or a staff login.

Customers create their own (``create``, scopes ``read`` and ``payments:write``). Staff keys
are asked for by an administrator in the back office as a change request (``PendingKey``:
the key is shown to the admin once, and exists only once another person approved it), or
made at once by ``flask vaulta create-api-key`` (``create_for_staff``). Their scopes are
``read`` or permission names the login holds, and a call gets the login's permissions
narrowed by them (vaulta/services/identity/permissions.py).

The full key is returned once, by ``create``. The database keeps the public prefix (unique,
used to find the row), the SHA-256 of the secret (256 random bits, so a plain hash is as good
as a slow one and survives a SECRET_KEY rotation) and the last four characters for display.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from vaulta.models import ApiKey, User, utcnow
from vaulta.services import audit
from vaulta.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from vaulta.services.identity import permissions, users
from vaulta.services.maintenance import UnderMaintenance
from vaulta.services.unit_of_work import session, write_transaction
from vaulta.text import display_problem

KEY_PREFIX = "vk_"
PREFIX_LENGTH = 10
PREFIX_ALPHABET = string.ascii_letters + string.digits  # no "_": the key splits on it
SECRET_BYTES = 32  # 256 bits
SCOPES = ("read", "payments:write")
NAME_MAX_LENGTH = 100
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: ``raw`` is shown to its owner once and never stored."""

    key: ApiKey
    raw: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def scopes_of(key: ApiKey) -> list[str]:
    return key.scopes.split()


def is_usable(key: ApiKey, at: datetime | None = None) -> bool:
    """Not revoked and not expired at ``at`` (now by default)."""
    at = at or utcnow()
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > at)


def _new_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = set(scopes)
    unknown = chosen - set(SCOPES)
    if unknown:
        raise InvalidInput(f"Unknown scope {sorted(unknown)[0]!r}.", field="scopes")
    if not chosen:
        raise InvalidInput("Choose at least one scope.", field="scopes")
    return [s for s in SCOPES if s in chosen]


def create(
    user: User, name: str, scopes: Iterable[str], expires_at: datetime | None = None
) -> NewApiKey:
    """Create a key for ``user`` (a customer's login) and return it with its raw value.

    Refused (CustomerNotActive) while the customer is suspended or closed."""
    if user.is_staff or user.customer_id is None:
        raise Forbidden("Staff API keys are created by an administrator (create-api-key).")
    users.ensure_customer_active(user)
    return _insert(user, _clean_name(name), _clean_scopes(scopes), expires_at, actor=user)


def check_staff_key(user: User, name: str, scopes: Iterable[str]) -> tuple[str, list[str]]:
    """The cleaned name and scopes of a key for the staff login ``user``: scopes are
    ``read`` or permission names the login holds. InvalidInput otherwise."""
    if not user.is_staff:
        raise InvalidInput("Customers create their own keys in Settings.", field="email")
    chosen = sorted({s.strip() for s in scopes if s.strip()})
    if not chosen:
        raise InvalidInput("Choose at least one scope.", field="scopes")
    held = permissions.permissions_of(user)
    for scope in chosen:
        if scope == permissions.SCOPE_PAYMENTS_WRITE or not permissions.is_known_scope(scope):
            raise InvalidInput(f"Unknown staff scope {scope!r}.", field="scopes")
        if scope != permissions.SCOPE_READ and scope not in held:
            raise InvalidInput(f"{user.email} does not hold {scope!r}.", field="scopes")
    return _clean_name(name), chosen


def create_for_staff(
    user: User,
    name: str,
    scopes: Iterable[str],
    *,
    actor: User | None,
    expires_at: datetime | None = None,
) -> NewApiKey:
    """A key for a staff login, made at once by ``actor`` (``api_keys.manage``; None: the
    command line). Audited with its owner. In the back office a staff key is a change
    request instead (``PendingKey``, vaulta/services/changes/identity_actions.py)."""
    if not user.is_staff:
        raise InvalidInput("Customers create their own keys in Settings.", field="email")
    if actor is not None:
        permissions.require(actor, "api_keys.manage", "Only admins create staff API keys.")
    cleaned, chosen = check_staff_key(user, name, scopes)
    return _insert(user, cleaned, chosen, expires_at, actor=actor)


@dataclass(frozen=True)
class PendingKey:
    """A staff key made for a change request: ``raw`` is shown to its maker once; the
    request keeps only ``prefix``, ``secret_hash`` and ``last_four``. No ``api_keys`` row
    exists (so the key authenticates nothing) until the request is approved and
    ``insert_pending_in`` writes it."""

    raw: str
    prefix: str
    secret_hash: str
    last_four: str


def new_pending_key() -> PendingKey:
    """A fresh key's parts (its prefix unused today; checked again when it is inserted)."""
    s = session()
    prefix = _new_prefix()
    while s.scalar(sa.select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        prefix = _new_prefix()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    raw = f"{KEY_PREFIX}{prefix}_{secret}"
    return PendingKey(raw, prefix, hash_secret(secret), raw[-4:])


def insert_pending_in(
    s: sa.orm.Session,
    user: User,
    name: str,
    scopes: list[str],
    *,
    prefix: str,
    secret_hash: str,
    last_four: str,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> ApiKey:
    """Write an approved staff key (``PendingKey``'s stored parts) in the caller's write
    transaction; from now on it authenticates. Audited as ``api_key.created``."""
    if s.scalar(sa.select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        raise Conflict("This key's prefix is taken meanwhile: ask for a new key.")
    key = ApiKey(
        user_id=user.id,
        name=name,
        prefix=prefix,
        secret_hash=secret_hash,
        last_four=last_four,
        scopes=" ".join(scopes),
    )
    s.add(key)
    s.flush()
    audit.record(
        s,
        actor=actor,
        action="api_key.created",
        object_type="api_key",
        object_id=key.id,
        details={
            "name": name,
            "prefix": prefix,
            "scopes": scopes,
            "owner_id": user.id,
            **(details or {}),
        },
    )
    return key


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"Name the key (at most {NAME_MAX_LENGTH} characters).", field="name")
    if problem := display_problem(name):
        raise InvalidInput(problem, field="name")
    return name


def _insert(
    user: User,
    name: str,
    chosen: list[str],
    expires_at: datetime | None,
    *,
    actor: User | None,
) -> NewApiKey:
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("The expiry must be in the future.", field="expires_at")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with write_transaction() as s:
        prefix = _new_prefix()
        while s.scalar(sa.select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
            prefix = _new_prefix()
        raw = f"{KEY_PREFIX}{prefix}_{secret}"
        key = ApiKey(
            user_id=user.id,
            name=name,
            prefix=prefix,
            secret_hash=hash_secret(secret),
            last_four=raw[-4:],
            scopes=" ".join(chosen),
            expires_at=expires_at,
        )
        s.add(key)
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="api_key.created",
            object_type="api_key",
            object_id=key.id,
            details={"name": name, "prefix": prefix, "scopes": chosen, "owner_id": user.id},
        )
    return NewApiKey(key=key, raw=raw)


def list_keys(user: User) -> list[ApiKey]:
    """The user's keys, newest first (revoked and expired ones included)."""
    query = sa.select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.id.desc())
    return list(session().scalars(query))


def revoke(user: User, key_id: int) -> ApiKey:
    """Revoke one of the user's own keys; anyone else's key is NotFound."""
    with write_transaction() as s:
        key = s.scalar(
            sa.select(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.user_id == user.id)
            .with_for_update()
        )
        if key is None:
            raise NotFound("There is no such key.")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            audit.record(
                s,
                actor=user,
                action="api_key.revoked",
                object_type="api_key",
                object_id=key.id,
                details={"name": key.name, "prefix": key.prefix},
            )
    return key


def parse(raw_key: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed key, else None."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    prefix, sep, secret = raw_key[len(KEY_PREFIX) :].partition("_")
    if not sep or len(prefix) != PREFIX_LENGTH or not secret or len(secret) > 256:
        return None
    return prefix, secret


def authenticate(raw_key: str) -> tuple[User, ApiKey] | None:
    """The owner and key for a raw bearer key, or None.

    The secret is compared in constant time, and an unknown prefix costs the same hash and
    comparison. Revoked or expired keys, and keys of deactivated logins, are refused. A
    valid key of a suspended or closed customer raises CustomerNotActive (403: the key is
    right, the customer may not use it now). A successful use records ``last_used_at`` (not
    while maintenance mode is on).
    """
    parsed = parse(raw_key or "")
    prefix, secret = parsed if parsed else ("", "")
    key = session().scalar(sa.select(ApiKey).where(ApiKey.prefix == prefix)) if parsed else None
    expected = key.secret_hash if key is not None else _DUMMY_HASH
    matches = hmac.compare_digest(expected, hash_secret(secret))
    if key is None or not matches or not is_usable(key):
        return None
    try:
        with write_transaction() as s:
            fresh = s.get(ApiKey, key.id)
            user = s.get(User, key.user_id)
            if fresh is None or user is None or not user.is_active:
                return None
            users.ensure_customer_active(user)
            fresh.last_used_at = utcnow()
    except UnderMaintenance:  # reads go on during maintenance: this use is not recorded
        user = session().get(User, key.user_id)
        if user is None or not user.is_active:
            return None
        users.ensure_customer_active(user)
        return user, key
    return user, fresh
