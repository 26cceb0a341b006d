"""Customers: creation and look-up."""

from __future__ import annotations

import sqlalchemy as sa

from vaulta.models import Customer, User
from vaulta.services import audit
from vaulta.services.db import session, write_transaction
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.numbers import random_customer_number


def create_customer(
    *,
    full_name: str,
    actor: User,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
) -> Customer:
    full_name = (full_name or "").strip()
    if not full_name:
        raise InvalidInput("Enter the customer's full name.", field="full_name")
    with write_transaction() as s:
        number = random_customer_number()
        while s.scalar(sa.select(Customer.id).where(Customer.customer_number == number)):
            number = random_customer_number()
        customer = Customer(
            customer_number=number,
            full_name=full_name,
            email=(email or "").strip().lower() or None,
            phone=(phone or "").strip() or None,
            address=(address or "").strip() or None,
        )
        s.add(customer)
        s.flush()
        audit.record(
            s,
            actor=actor,
            action="customer.create",
            object_type="customer",
            object_id=customer.id,
            details={"customer_number": number, "full_name": full_name},
        )
    return customer


def get_customer(customer_id: int) -> Customer:
    customer = session().get(Customer, customer_id)
    if customer is None:
        raise NotFound("No such customer.")
    return customer
