"""Named permissions and the roles that group them: the one answer to "may this user do X".

Every staff route and API operation names the permission it needs (``require_permission``
in vaulta/auth/access.py, ``requires_permission`` in vaulta/api/auth.py); services that
decide on their own (payment approvals, staff API keys) ask ``has_permission`` too.

- A staff login's permissions are the union of its roles' (``users`` ↔ ``user_roles``).
- A customer's login has the ``customer`` role's permissions, always about its own
  customer's objects (the routes check the object belongs to it).
- An API call has its user's permissions narrowed by the key's scopes (``key_permissions``).

The public API: ``PERMISSIONS``, ``ROLE_PERMISSIONS``, ``has_permission``,
``permissions_of``, ``roles_of``, ``key_permissions``, ``role_table``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from vaulta.models import User
from vaulta.models.user import (
    ROLE_CUSTOMER,
    STAFF_ADMIN,
    STAFF_APPROVER,
    STAFF_AUDITOR,
    STAFF_ROLES,
    STAFF_TELLER,
)
from vaulta.services.errors import Forbidden

# name -> what it allows. Names are stable: routes, API keys' scopes and docs use them.
PERMISSIONS: dict[str, str] = {
    "staff.dashboard": "See the back-office dashboard",
    "customers.read": "See customers, their details and accounts",
    "customers.manage": "Create, edit, suspend, reactivate and close customers; change their "
    "daily outgoing limits",
    "accounts.read": "See accounts and statements (CSV, XLSX and PDF included)",
    "accounts.manage": "Open, freeze, unfreeze, block, unblock and close accounts; change their "
    "overdraft limits",
    "ledger.read": "Search and see transactions",
    "ledger.export": "Export transactions as CSV or XLSX",
    "ledger.deposit.request": "Deposit money into a customer's account",
    "ledger.withdrawal.request": "Withdraw money from a customer's account",
    "ledger.reversal.request": "Reverse a posted transaction",
    "ledger.hold.place.request": "Place a hold on a customer's account",
    "ledger.hold.capture.request": "Capture a hold (post the held amount, release the rest)",
    "ledger.hold.release.request": "Release a hold",
    "payments.read": "See payments and the approval queue",
    "fx.read": "See the FX rates in force and their history",
    "payments.request": "Enter payments on a customer's behalf",
    "requests.decide": "Approve or reject change requests and payments, never one's own",
    "audit.read": "Search the audit log",
    "audit.export": "Export the audit log (CSV, XLSX, the chain's zip)",
    "users.read": "See staff logins and their roles",
    "users.manage": "Create and deactivate staff logins",
    "roles.read": "See the roles and their permissions",
    "roles.manage": "Grant and remove staff roles",
    "policies.manage": "Edit approval policies",
    "system.read": "See the system status (schema, version)",
    "system.manage": "Run system operations (maintenance, upgrades)",
    "api_keys.manage": "Create and revoke staff API keys",
    "webhooks.read": "See webhook endpoints and their delivery logs",
    "webhooks.manage": "Add, edit, delete webhook endpoints; rotate secrets; replay deliveries",
    "own.accounts.read": "A customer: see their own accounts and statements",
    "own.payments.read": "A customer: see their own payments",
    "own.payments.request": "A customer: send payments from their own accounts",
    "own.conversions.request": "A customer: convert money between their own accounts",
    "own.api_keys.manage": "A customer: create and revoke their own API keys",
}

_STAFF_READS = ("staff.dashboard", "roles.read")
_BANK_READS = ("customers.read", "accounts.read", "ledger.read", "payments.read", "fx.read")

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    STAFF_ADMIN: frozenset(
        {
            *_STAFF_READS,
            "users.read",
            "users.manage",
            "roles.manage",
            "policies.manage",
            "system.read",
            "system.manage",
            "api_keys.manage",
            "webhooks.read",
            "webhooks.manage",
        }
    ),
    STAFF_APPROVER: frozenset({*_STAFF_READS, *_BANK_READS, "requests.decide"}),
    STAFF_TELLER: frozenset(
        {
            *_STAFF_READS,
            *_BANK_READS,
            "customers.manage",
            "accounts.manage",
            "ledger.deposit.request",
            "ledger.withdrawal.request",
            "ledger.reversal.request",
            "ledger.hold.place.request",
            "ledger.hold.capture.request",
            "ledger.hold.release.request",
            "payments.request",
        }
    ),
    STAFF_AUDITOR: frozenset(
        {
            *_STAFF_READS,
            *_BANK_READS,
            "ledger.export",
            "audit.read",
            "audit.export",
            "users.read",
            "system.read",
            "webhooks.read",
        }
    ),
    ROLE_CUSTOMER: frozenset(
        {
            "own.accounts.read",
            "own.payments.read",
            "own.payments.request",
            "own.conversions.request",
            "own.api_keys.manage",
        }
    ),
}
ROLE_DESCRIPTIONS: dict[str, str] = {
    STAFF_ADMIN: "Runs the system: staff logins, roles, policies, system operations. "
    "Moves no money.",
    STAFF_APPROVER: "Decides change requests and payments made by others. Reads what it needs to.",
    STAFF_TELLER: "Makes requests: customers, accounts, deposits, withdrawals, reversals, holds, "
    "payments on a customer's behalf.",
    STAFF_AUDITOR: "Reads everything, the audit log and exports included. Changes nothing.",
    ROLE_CUSTOMER: "A customer's own login: their accounts, payments, conversions and API keys.",
}

# API key scopes: a customer's key names these; a staff key may also name permissions.
SCOPE_READ = "read"
SCOPE_PAYMENTS_WRITE = "payments:write"
SCOPE_PERMISSIONS: dict[str, frozenset[str]] = {
    SCOPE_READ: frozenset(
        {p for p in PERMISSIONS if p.endswith(".read")} | {"staff.dashboard", "ledger.export"}
    ),
    # Moving the customer's own money: payments, and conversions between their accounts.
    SCOPE_PAYMENTS_WRITE: frozenset({"own.payments.request", "own.conversions.request"}),
}

assert all(p in PERMISSIONS for perms in ROLE_PERMISSIONS.values() for p in perms)
assert set(ROLE_PERMISSIONS) == {*STAFF_ROLES, ROLE_CUSTOMER}


def roles_of(user: User | None) -> frozenset[str]:
    """The roles ``user`` holds: staff roles, or ``{"customer"}``; nothing when signed out
    or deactivated."""
    if user is None or not user.is_active:
        return frozenset()
    return user.role_names


def permissions_of(user: User | None) -> frozenset[str]:
    """Every permission ``user``'s roles grant (empty for nobody or a deactivated login)."""
    found: set[str] = set()
    for role in roles_of(user):
        found |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(found)


def has_permission(user: User | None, name: str) -> bool:
    """True when ``user`` holds ``name``. An unknown name is a programming error."""
    if name not in PERMISSIONS:
        raise KeyError(f"unknown permission {name!r}")
    return name in permissions_of(user)


def require(user: User | None, name: str, message: str | None = None) -> None:
    """Raise Forbidden unless ``user`` holds ``name`` (for services that decide)."""
    if not has_permission(user, name):
        raise Forbidden(message or f"This needs the {name!r} permission.")


def is_known_scope(scope: str) -> bool:
    return scope in SCOPE_PERMISSIONS or scope in PERMISSIONS


def scope_permissions(scopes: Iterable[str]) -> frozenset[str]:
    """What a key's scopes allow at most: named groups (``read``) or permission names."""
    found: set[str] = set()
    for scope in scopes:
        if scope in SCOPE_PERMISSIONS:
            found |= SCOPE_PERMISSIONS[scope]
        elif scope in PERMISSIONS:
            found.add(scope)
    return frozenset(found)


def key_permissions(user: User | None, scopes: Iterable[str]) -> frozenset[str]:
    """An API call's permissions: its user's, narrowed by its key's scopes."""
    return permissions_of(user) & scope_permissions(scopes)


@dataclass(frozen=True)
class RoleRow:
    """One role for the roles page and docs: its name, what it is for, its permissions."""

    name: str
    description: str
    permissions: tuple[str, ...]


def role_table() -> list[RoleRow]:
    """Every role (staff roles first, then customer) with its sorted permissions."""
    return [
        RoleRow(name, ROLE_DESCRIPTIONS[name], tuple(sorted(ROLE_PERMISSIONS[name])))
        for name in (*STAFF_ROLES, ROLE_CUSTOMER)
    ]
