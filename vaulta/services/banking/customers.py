"""Customers (commands): create, edit, suspend / reactivate / close. Reading them for pages is
``customer_queries``.

Every change runs in one write transaction and writes its audit event in that transaction.
Staff make changes through change requests (vaulta/services/changes/banking_actions.py): the
``check_*``/``clean_fields`` functions validate a request when it is made and when it is
decided, the ``*_in`` functions apply it in the decision's transaction. The functions that
open their own transaction act at once (seeding, the command line, tests).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, Customer, User
from vaulta.models.account import ACCOUNT_CLOSED
from vaulta.models.customer import CUSTOMER_ACTIVE, CUSTOMER_CLOSED, CUSTOMER_SUSPENDED
from vaulta.models.user import new_session_token
from vaulta.services import audit, events
from vaulta.services.banking.identifiers import random_customer_number
from vaulta.services.errors import Conflict, InvalidInput, NotFound
from vaulta.services.unit_of_work import write_transaction
from vaulta.text import display_problem

FULL_NAME_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 32
ADDRESS_MAX = 500
EDITABLE_FIELDS = ("full_name", "email", "phone", "address")

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Digits with the separators people type; at least three digits (checked separately).
_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]+$")
PHONE_SEPARATORS = " ()./-+"

# The business event of each status change (vaulta/services/events).
STATUS_EVENTS = {
    "customer.suspend": "customer.suspended",
    "customer.reactivate": "customer.reactivated",
    "customer.close": "customer.closed",
}


def _clean(
    full_name: str | None, email: str | None, phone: str | None, address: str | None
) -> dict[str, str | None]:
    """Normalise and validate the editable fields; raise InvalidInput naming the field."""
    name = " ".join((full_name or "").split())
    if not name:
        raise InvalidInput("Enter the customer's full name.", field="full_name")
    if len(name) > FULL_NAME_MAX:
        raise InvalidInput(f"Keep the name under {FULL_NAME_MAX} characters.", field="full_name")
    if problem := display_problem(name):
        raise InvalidInput(problem, field="full_name")
    mail = (email or "").strip().lower() or None
    if mail is not None and (len(mail) > EMAIL_MAX or not _EMAIL_RE.match(mail)):
        raise InvalidInput("Enter an email address like name@example.com.", field="email")
    tel = " ".join((phone or "").split()) or None
    if tel is not None and (
        len(tel) > PHONE_MAX or not _PHONE_RE.match(tel) or sum(c.isdigit() for c in tel) < 3
    ):
        raise InvalidInput(
            "Enter a phone number with digits, spaces, +, -, ( or ) only.", field="phone"
        )
    addr = (address or "").strip() or None
    if addr is not None and len(addr) > ADDRESS_MAX:
        raise InvalidInput(f"Keep the address under {ADDRESS_MAX} characters.", field="address")
    if problem := display_problem(addr):
        raise InvalidInput(problem, field="address")
    return {"full_name": name, "email": mail, "phone": tel, "address": addr}


def clean_fields(
    full_name: str | None, email: str | None, phone: str | None, address: str | None
) -> dict[str, str | None]:
    """The editable fields normalised, or InvalidInput naming the first bad one."""
    return _clean(full_name, email, phone, address)


def create_in(
    s: Session,
    fields: dict[str, str | None],
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> Customer:
    """Create the customer (``fields`` from ``clean_fields``) in the caller's write
    transaction; audited, ``customer.created``."""
    fields = _clean(
        fields.get("full_name"), fields.get("email"), fields.get("phone"), fields.get("address")
    )
    number = random_customer_number()
    while s.scalar(sa.select(Customer.id).where(Customer.customer_number == number)):
        number = random_customer_number()
    customer = Customer(customer_number=number, status=CUSTOMER_ACTIVE, **fields)
    s.add(customer)
    s.flush()
    audit.record(
        s,
        actor=actor,
        action="customer.create",
        object_type="customer",
        object_id=customer.id,
        details={"customer_number": number, "full_name": fields["full_name"], **(details or {})},
    )
    events.emit(s, "customer.created", events.CustomerData.model_validate(customer))
    return customer


def create_customer(
    *,
    full_name: str,
    actor: User,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> Customer:
    """Create a customer at once: for seeding, the command line and tests. Staff create
    customers through a change request (vaulta/services/changes/banking_actions.py)."""
    fields = _clean(full_name, email, phone, address)
    with write_transaction() as s:
        customer = create_in(s, fields, actor=actor)
    return customer


def _lock_customer(s: Session, customer_id: int) -> Customer:
    customer = s.get(Customer, customer_id, with_for_update=True, populate_existing=True)
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def check_editable(customer: Customer) -> None:
    if customer.status == CUSTOMER_CLOSED:
        raise Conflict("This customer is closed: their details can no longer be edited.")


def changes_of(customer: Customer, fields: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """Each field ``fields`` would change: ``{name: {"old", "new"}}``."""
    return {
        name: {"old": getattr(customer, name), "new": value}
        for name, value in fields.items()
        if getattr(customer, name) != value
    }


def update_in(
    s: Session,
    customer_id: int,
    fields: dict[str, str | None],
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> Customer:
    """Apply ``fields`` in the caller's write transaction; the audit event lists each changed
    field (old → new)."""
    customer = _lock_customer(s, customer_id)
    check_editable(customer)
    changes = changes_of(customer, fields)
    if changes:
        for name, change in changes.items():
            setattr(customer, name, change["new"])
        audit.record(
            s,
            actor=actor,
            action="customer.update",
            object_type="customer",
            object_id=customer.id,
            details={"changes": changes, **(details or {})},
        )
        data = events.CustomerData.model_validate(customer).model_copy(
            update={"changed": sorted(changes)}
        )
        events.emit(s, "customer.updated", data)
    return customer


def update_customer(
    customer_id: int,
    *,
    full_name: str,
    email: str | None,
    phone: str | None,
    address: str | None,
    actor: User,
) -> Customer:
    """Change the customer's details at once (seeding, tests; staff: a change request)."""
    fields = _clean(full_name, email, phone, address)
    with write_transaction() as s:
        customer = update_in(s, customer_id, fields, actor=actor)
    return customer


# action -> (the statuses it may leave, the status it makes)
STATUS_CHANGES: dict[str, tuple[tuple[str, ...], str]] = {
    "customer.suspend": ((CUSTOMER_ACTIVE,), CUSTOMER_SUSPENDED),
    "customer.reactivate": ((CUSTOMER_SUSPENDED,), CUSTOMER_ACTIVE),
    "customer.close": ((CUSTOMER_ACTIVE, CUSTOMER_SUSPENDED), CUSTOMER_CLOSED),
}


def check_status_change(s: Session, customer: Customer, action: str) -> str:
    """The status ``action`` would give ``customer``, or Conflict saying why it may not
    (closing: while any of their accounts is not closed)."""
    allowed_from, to = STATUS_CHANGES[action]
    if customer.status not in allowed_from:
        raise Conflict(_refusal(customer.status, to))
    if to == CUSTOMER_CLOSED:
        open_accounts = s.scalar(
            sa.select(sa.func.count())
            .select_from(Account)
            .where(Account.customer_id == customer.id, Account.status != ACCOUNT_CLOSED)
        )
        if open_accounts:
            raise Conflict(
                f"Close this customer's accounts first: {open_accounts} "
                f"{'is' if open_accounts == 1 else 'are'} still open."
            )
    return to


def change_status_in(
    s: Session,
    customer_id: int,
    action: str,
    *,
    actor: User | int | None,
    details: dict[str, Any] | None = None,
) -> Customer:
    """Apply a status change in the caller's write transaction: audited, its event
    emitted, and (suspend, close) every session of the customer's logins ended."""
    customer = _lock_customer(s, customer_id)
    to = check_status_change(s, customer, action)
    old = customer.status
    customer.status = to
    recorded: dict[str, Any] = {"old_status": old, "new_status": to}
    if to != CUSTOMER_ACTIVE:
        recorded["sessions_ended"] = _end_sessions(s, customer.id)
    audit.record(
        s,
        actor=actor,
        action=action,
        object_type="customer",
        object_id=customer.id,
        details={**recorded, **(details or {})},
    )
    events.emit(s, STATUS_EVENTS[action], events.CustomerData.model_validate(customer))
    return customer


def _change_status(customer_id: int, *, action: str, actor: User) -> Customer:
    with write_transaction() as s:
        customer = change_status_in(s, customer_id, action, actor=actor)
    return customer


def _end_sessions(s: Session, customer_id: int) -> int:
    """Rotate the session identifier of every login of the customer: their sessions (and a
    sign-in waiting for its second factor) end for good, also after a reactivation.
    Returns the number of logins."""
    logins = list(s.scalars(sa.select(User).where(User.customer_id == customer_id)))
    for login in logins:
        login.session_token = new_session_token()
    return len(logins)


def _refusal(current: str, wanted: str) -> str:
    if current == CUSTOMER_CLOSED:
        return "This customer is closed: a closed customer cannot be changed."
    if current == wanted:
        return f"This customer is already {current}."
    return f"A {current} customer cannot be made {wanted}."


def suspend_customer(customer_id: int, *, actor: User) -> Customer:
    return _change_status(customer_id, action="customer.suspend", actor=actor)


def reactivate_customer(customer_id: int, *, actor: User) -> Customer:
    return _change_status(customer_id, action="customer.reactivate", actor=actor)


def close_customer(customer_id: int, *, actor: User) -> Customer:
    """Close the customer; refused while any of their accounts is not closed."""
    return _change_status(customer_id, action="customer.close", actor=actor)
