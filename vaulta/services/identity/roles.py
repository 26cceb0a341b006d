"""Granting and removing staff roles (audited), and the staff list with their roles.

The back office grants and removes roles through change requests
(vaulta/services/changes/identity_actions.py: ``check_*`` when made and decided, ``*_in``
once approved); ``grant_role``/``revoke_role`` act at once, for the command line and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vaulta.models import User, UserRole
from vaulta.models.user import ROLE_STAFF
from vaulta.services import audit
from vaulta.services.errors import Conflict, InvalidInput, NotFound
from vaulta.services.identity import permissions
from vaulta.services.identity.users import clean_staff_roles
from vaulta.services.unit_of_work import session, write_transaction


def one_role(role: str) -> str:
    """``role`` checked: one staff role's name, else InvalidInput."""
    cleaned = clean_staff_roles([role])
    if not cleaned:
        raise InvalidInput("Name a role.", field="role")
    return cleaned[0]


def staff_login(s: sa.orm.Session, user_id: int, *, lock: bool = False) -> User:
    user = s.get(User, user_id, with_for_update=lock, populate_existing=lock)
    if user is None or user.role != ROLE_STAFF:
        raise NotFound("There is no such staff login.")
    return user


def check_grant(user: User, role: str) -> None:
    if role in user.role_names:
        raise Conflict(f"{user.email} already holds the {role} role.")


def check_revoke(user: User, role: str) -> None:
    if role not in user.role_names:
        raise Conflict(f"{user.email} does not hold the {role} role.")


def grant_in(
    s: sa.orm.Session,
    user_id: int,
    role: str,
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> User:
    """Give the staff login ``role`` in the caller's write transaction (audited as
    ``user.role_granted``)."""
    user = staff_login(s, user_id, lock=True)
    check_grant(user, role)
    granted_by = actor if isinstance(actor, int) or actor is None else audit.actor_id(actor)
    user.staff_roles.append(UserRole(role=role, granted_by_id=granted_by))
    audit.record(
        s,
        actor=actor,
        action="user.role_granted",
        object_type="user",
        object_id=user.id,
        details={"role": role, **(details or {})},
    )
    return user


def revoke_in(
    s: sa.orm.Session,
    user_id: int,
    role: str,
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> User:
    """Take ``role`` from the staff login in the caller's write transaction (audited as
    ``user.role_revoked``)."""
    user = staff_login(s, user_id, lock=True)
    check_revoke(user, role)
    held = [r for r in user.staff_roles if r.role == role]
    user.staff_roles.remove(held[0])
    audit.record(
        s,
        actor=actor,
        action="user.role_revoked",
        object_type="user",
        object_id=user.id,
        details={"role": role, **(details or {})},
    )
    return user


def grant_role(user_id: int, role: str, *, actor: User | None) -> User:
    """Give a staff login one more role at once. ``actor`` needs ``roles.manage`` (None: the
    command line); nobody grants themselves a role. Staff in the back office grant roles
    through a change request (vaulta/services/changes/identity_actions.py)."""
    role = one_role(role)
    check_actor(actor, user_id)
    with write_transaction() as s:
        user = grant_in(s, user_id, role, actor=actor)
    return user


def revoke_role(user_id: int, role: str, *, actor: User | None) -> User:
    """Take one role from a staff login at once (audited as ``user.role_revoked``)."""
    role = one_role(role)
    check_actor(actor, user_id)
    with write_transaction() as s:
        user = revoke_in(s, user_id, role, actor=actor)
    return user


def check_actor(actor: User | None, user_id: int) -> None:
    if actor is None:
        return
    permissions.require(actor, "roles.manage", "Only admins grant and remove roles.")
    if audit.actor_id(actor) == user_id:
        raise InvalidInput("Nobody changes their own roles: ask another admin.")


@dataclass(frozen=True)
class StaffRow:
    id: int
    email: str
    full_name: str
    is_active: bool
    roles: tuple[str, ...]


def staff_logins() -> list[StaffRow]:
    """Every staff login with its roles, by email (a read: Core rows)."""
    rows = session().execute(
        sa.select(User.id, User.email, User.full_name, User.is_active, UserRole.role)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(User.role == ROLE_STAFF)
        .order_by(User.email, UserRole.role)
    )
    found: dict[int, StaffRow] = {}
    for row in rows:
        current = found.get(row.id)
        roles = (current.roles if current else ()) + ((row.role,) if row.role else ())
        found[row.id] = StaffRow(row.id, row.email, row.full_name, row.is_active, roles)
    return list(found.values())
