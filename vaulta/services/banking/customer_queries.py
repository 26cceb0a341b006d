"""Reading customers for pages: look-up, detail and search (keyset pages of plain rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from vaulta.models import Customer
from vaulta.services.banking import customers
from vaulta.services.errors import NotFound
from vaulta.services.unit_of_work import session

SEARCH_LIMIT_MAX = 100
_NUMBER_QUERY_RE = re.compile(r"^c\d{1,8}$", re.IGNORECASE)
_PHONE_QUERY_RE = re.compile(r"^[0-9 ()./+-]+$")


# What a list of customers shows: plain rows, not Customer objects (a page needs no more).
# templates/customers/_table.html unpacks the rows in this order.
LISTED = (
    Customer.id,
    Customer.customer_number,
    Customer.full_name,
    Customer.email,
    Customer.phone,
    Customer.status,
)


@dataclass(frozen=True)
class CustomerPage:
    """One page of a customer search; ``next_after`` is the cursor of the following page."""

    rows: list[sa.Row[Any]]  # LISTED columns, read by name (row.full_name)
    next_after: tuple[str, int] | None

    @property
    def has_more(self) -> bool:
        return self.next_after is not None


def get_customer(customer_id: int) -> Customer:
    customer = session().get(Customer, customer_id)
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def get_customer_by_number(customer_number: str) -> Customer:
    customer = session().scalar(
        sa.select(Customer).where(Customer.customer_number == customer_number)
    )
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def _phone_digits() -> sa.ColumnElement[str]:
    """The stored phone number without separators (portable: no regexp_replace on SQLite)."""
    expr: sa.ColumnElement[str] = Customer.phone
    for char in customers.PHONE_SEPARATORS:
        expr = sa.func.replace(expr, char, "", type_=sa.String)
    return expr


def _contains(text: str) -> str:
    """A LIKE pattern (escape character ``/``) matching ``text`` anywhere.

    The pattern is built here, not in SQL, so that PostgreSQL's planner sees it and can
    estimate how many rows match (walk the name index for common words, scan for rare ones).
    """
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


# The search's conditions, each with bind parameters (not values): a statement is built
# once per kind, then only bound (SQLAlchemy caches a statement's compiled form by object).
_SEARCH_CONDITIONS: dict[str, sa.ColumnElement[bool]] = {
    "number": Customer.customer_number == sa.bindparam("number", type_=sa.String),
    "number_prefix": Customer.customer_number.like(sa.bindparam("prefix", type_=sa.String)),
    "email": Customer.email.like(sa.bindparam("email", type_=sa.String), escape="/"),
    "phone": _phone_digits().like(sa.bindparam("digits", type_=sa.String)),
    "phone_or_number": sa.or_(
        _phone_digits().like(sa.bindparam("digits", type_=sa.String)),
        Customer.customer_number.like(sa.bindparam("prefix", type_=sa.String)),
    ),
    "name": sa.or_(
        Customer.full_name.ilike(sa.bindparam("name", type_=sa.String), escape="/"),
        Customer.email.like(sa.bindparam("email", type_=sa.String), escape="/"),
    ),
}


_AFTER = sa.tuple_(Customer.full_name, Customer.id) > sa.tuple_(
    sa.bindparam("after_name", type_=sa.String), sa.bindparam("after_id", type_=sa.Integer)
)


_SEARCH_STATEMENTS: dict[tuple[str | None, bool, int], sa.Select[Any]] = {}


def _search_condition(query: str) -> tuple[str | None, dict[str, Any]]:
    """What ``query`` looks like decides the fields it is matched against.

    Returns the kind of condition (a key of ``_SEARCH_CONDITIONS``, None for no condition)
    and the values of its parameters.
    """
    q = " ".join(query.split())
    if not q:
        return None, {}
    if _NUMBER_QUERY_RE.match(q):
        number = q.upper()
        if len(number) == 9:
            return "number", {"number": number}
        return "number_prefix", {"prefix": number + "%"}
    if "@" in q:
        return "email", {"email": _contains(q.lower())}
    digits = "".join(c for c in q if c.isdigit())
    if digits and _PHONE_QUERY_RE.match(q):
        if len(digits) <= 8:
            return "phone_or_number", {"digits": f"%{digits}%", "prefix": f"C{digits}%"}
        return "phone", {"digits": f"%{digits}%"}
    return "name", {"name": _contains(q), "email": _contains(q.lower())}


def _search_statement(kind: str | None, paged: bool, limit: int) -> sa.Select[Any]:
    key = (kind, paged, limit)
    stmt = _SEARCH_STATEMENTS.get(key)
    if stmt is None:  # at most 7 kinds x 2 x SEARCH_LIMIT_MAX statements
        stmt = sa.select(*LISTED).order_by(Customer.full_name, Customer.id).limit(limit + 1)
        if kind is not None:
            stmt = stmt.where(_SEARCH_CONDITIONS[kind])
        if paged:
            stmt = stmt.where(_AFTER)
        stmt = _SEARCH_STATEMENTS[key] = stmt
    return stmt


def search_customers(
    query: str, *, after: tuple[str, int] | None = None, limit: int = 25
) -> CustomerPage:
    """Customers matching ``query`` by name, email, customer number or phone.

    Ordered by (full_name, id) and paged by keyset: ``after`` is the (full_name, id) of
    the last row already shown. No OFFSET and no COUNT, so every page costs the same.
    """
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    kind, params = _search_condition(query or "")
    if after is not None:
        params["after_name"], params["after_id"] = after
    stmt = _search_statement(kind, after is not None, limit)
    rows = list(session().connection().execute(stmt, params).all())  # plain rows: no ORM
    if len(rows) <= limit:
        return CustomerPage(rows=rows, next_after=None)
    rows = rows[:limit]
    return CustomerPage(rows=rows, next_after=(rows[-1].full_name, rows[-1].id))


def customer_detail(customer_id: int) -> Customer:
    """The customer with their accounts and logins (``.accounts``, ``.users``) loaded."""
    customer = session().scalar(
        sa.select(Customer)
        .where(Customer.id == customer_id)
        .options(selectinload(Customer.accounts), selectinload(Customer.users))
        .execution_options(populate_existing=True)
    )
    if customer is None:
        raise NotFound("No such customer.")
    return customer
