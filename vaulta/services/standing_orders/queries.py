"""Reading standing orders: a customer's own (another's is NotFound), staff's by customer."""

from __future__ import annotations

import sqlalchemy as sa

from vaulta.models import Account, StandingOrder, StandingOrderRun, User
from vaulta.services.errors import NotFound
from vaulta.services.identity import permissions
from vaulta.services.unit_of_work import session

STAFF_READ = "payments.read"


def get(order_id: int) -> StandingOrder:
    order = session().get(StandingOrder, order_id) if 0 < order_id < 2**31 else None
    if order is None:
        raise NotFound("No such standing order.")
    return order


def get_for(order_id: int, user: User) -> StandingOrder:
    """The order when ``user`` may see it: the customer's own logins, or staff holding
    payments.read; anyone else NotFound (customers) or Forbidden (staff)."""
    order = get(order_id)
    if user.customer_id is not None:
        if order.customer_id != user.customer_id:
            raise NotFound("No such standing order.")
        return order
    permissions.require(user, STAFF_READ)
    return order


def of_customer(customer_id: int, *, limit: int = 200) -> list[StandingOrder]:
    """The customer's standing orders, newest first."""
    return list(
        session().scalars(
            sa.select(StandingOrder)
            .where(StandingOrder.customer_id == customer_id)
            .order_by(StandingOrder.id.desc())
            .limit(limit)
        )
    )


def runs_of(order_id: int, *, limit: int = 100) -> list[StandingOrderRun]:
    """The order's runs, latest due date first."""
    return list(
        session().scalars(
            sa.select(StandingOrderRun)
            .where(StandingOrderRun.standing_order_id == order_id)
            .order_by(StandingOrderRun.due_date.desc())
            .limit(limit)
        )
    )


def account_number(account_id: int | None) -> str | None:
    if account_id is None:
        return None
    return session().scalar(sa.select(Account.number).where(Account.id == account_id))
