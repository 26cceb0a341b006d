"""Staff roles and staff API keys as change requests.

- ``role.grant`` / ``role.revoke``: an admin (``roles.manage``) asks; nobody asks to change
  their own roles; the role is given or taken once approved (vaulta/services/identity/roles.py).
- ``api_key.create``: an admin (``api_keys.manage``) asks for a key for a staff login
  (``request_staff_key``). The key is made when asked and shown to that admin once; the
  request keeps only its prefix, SHA-256 hash and last four characters, and no ``api_keys``
  row exists, so the key authenticates nothing, until another person approves: then the row
  is written with that hash. Rejected, cancelled or expired, the key never works. The scopes
  are checked again at the decision against the roles the owner holds then.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import User
from vaulta.models.change_request import ChangeRequest
from vaulta.services.changes import change_requests
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.changes.banking_actions import params_of
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import api_keys, roles

LABELS = {"role.grant": "Grant staff role", "role.revoke": "Remove staff role"}
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")
_PREFIX_RE = re.compile(rf"^[A-Za-z0-9]{{{api_keys.PREFIX_LENGTH}}}$")


def _user_id(params: dict[str, Any]) -> int:
    value = params.get("user_id")
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Name the staff login.", field="user_id")
    return value


def _details(request: ChangeRequest, decider: User) -> dict[str, Any]:
    return {"change_request_id": request.id, "approved_by_id": decider.id}


# --- roles -----------------------------------------------------------------------------


def _role_spec(action: str) -> ActionSpec:
    granting = action == "role.grant"
    check = roles.check_grant if granting else roles.check_revoke
    apply = roles.grant_in if granting else roles.revoke_in

    def prepare(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
        role = roles.one_role(str(params.get("role") or ""))
        user_id = _user_id(params)
        roles.check_actor(actor, user_id)
        user = roles.staff_login(s, user_id)
        check(user, role)
        held = sorted(user.role_names)
        after = sorted({*held, role}) if granting else [r for r in held if r != role]
        verb = "Grant" if granting else "Remove"
        return Prepared(
            target_type="user",
            target_id=user.id,
            before={"roles": held},
            after={"roles": after},
            summary=f"{verb} the {role} role {'to' if granting else 'from'} {user.email}",
            dedupe_key=f"user:{user.id}:role:{role}",
            params={"user_id": user.id, "role": role},
        )

    def recheck(s: Session, request: ChangeRequest) -> None:
        params = params_of(request)
        check(roles.staff_login(s, _user_id(params)), roles.one_role(str(params.get("role"))))

    def execute(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
        params = params_of(request)
        user = apply(
            s,
            _user_id(params),
            roles.one_role(str(params.get("role"))),
            actor=request.maker_id,
            details=_details(request, decider),
        )
        return {"user_id": user.id, "roles": sorted(user.role_names)}

    return ActionSpec(
        name=action,
        label=LABELS[action],
        is_money=False,
        maker_permission="roles.manage",
        prepare=prepare,
        recheck=recheck,
        execute=execute,
    )


# --- staff API keys --------------------------------------------------------------------


def _key_parts(params: dict[str, Any]) -> dict[str, str]:
    prefix, digest, last_four = (
        str(params.get(n) or "") for n in ("prefix", "secret_hash", "last_four")
    )
    if not _PREFIX_RE.match(prefix) or not _HASH_RE.match(digest) or len(last_four) != 4:
        raise InvalidInput("This is not a key made by request_staff_key.")
    return {"prefix": prefix, "secret_hash": digest, "last_four": last_four}


def _checked_key(s: Session, params: dict[str, Any]) -> tuple[User, str, list[str]]:
    owner = roles.staff_login(s, _user_id(params))
    scopes = params.get("scopes")
    if not isinstance(scopes, list):
        raise InvalidInput("Choose at least one scope.", field="scopes")
    name, chosen = api_keys.check_staff_key(owner, str(params.get("name") or ""), scopes)
    return owner, name, chosen


def prepare_api_key(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    owner, name, chosen = _checked_key(s, params)
    parts = _key_parts(params)
    return Prepared(
        target_type="user",
        target_id=owner.id,
        before={},
        after={
            "owner": owner.email,
            "name": name,
            "scopes": chosen,
            "key": f"…{parts['last_four']}",
        },
        summary=f"Create API key {name!r} for {owner.email}",
        dedupe_key=None,
        params={"user_id": owner.id, "name": name, "scopes": chosen, **parts},
    )


def recheck_api_key(s: Session, request: ChangeRequest) -> None:
    _checked_key(s, params_of(request))


def execute_api_key(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = params_of(request)
    owner, name, chosen = _checked_key(s, params)
    key = api_keys.insert_pending_in(
        s,
        owner,
        name,
        chosen,
        **_key_parts(params),
        actor=request.maker_id,
        details=_details(request, decider),
    )
    return {"api_key_id": key.id, "prefix": key.prefix}


def request_staff_key(
    owner_id: int, name: str, scopes: Iterable[str], *, actor: User
) -> tuple[ChangeRequest, str]:
    """Ask for a key for the staff login ``owner_id``: the change request and the raw key,
    to show ``actor`` once (it works only once the request is approved)."""
    pending = api_keys.new_pending_key()
    request = change_requests.submit(
        "api_key.create",
        {
            "user_id": owner_id,
            "name": name,
            "scopes": list(scopes),
            "prefix": pending.prefix,
            "secret_hash": pending.secret_hash,
            "last_four": pending.last_four,
        },
        actor=actor,
    )
    return request, pending.raw


SPECS = (
    _role_spec("role.grant"),
    _role_spec("role.revoke"),
    ActionSpec(
        name="api_key.create",
        label="Create staff API key",
        is_money=False,
        maker_permission="api_keys.manage",
        prepare=prepare_api_key,
        recheck=recheck_api_key,
        execute=execute_api_key,
    ),
)
for _spec in SPECS:
    register(_spec)
