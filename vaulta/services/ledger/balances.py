"""Balances by value date: what an account held at an instant.

The rule (``balance_as_of``): the balance at an instant ``T`` is the sum of the account's
postings whose value date is **before T's UTC date**, plus those whose value date **is**
T's UTC date and that were booked (``created_at``) **at or before T**. A posting dated
after T's date never counts. So an entry dated the day it is booked counts from the moment
it is booked; a backdated entry (booked on a later day than its value date) counts at
every instant after its value date, from the moment it is booked on (before that, nobody
knew of it): it changes the past days' balances it is dated into, which is what a value
date means. At a ``T`` after the last posting the balance is the stored balance.

It is read in one statement, anchored on the stored balance: the stored balance minus the
account's postings that come after ``T`` by that rule. Those are found through
``ix_postings_account_id_value_date_id`` as one index range (value date from T's date on),
so the cost is the number of postings dated on or after T's date, never the account's
whole history; recent instants (statements, the dashboard) read a handful of rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

import sqlalchemy as sa

from vaulta.models import Account, Posting
from vaulta.services.errors import InvalidInput, NotFound
from vaulta.services.unit_of_work import session

_p = Posting.__table__
_accounts = Account.__table__


def utc_instant(instant: datetime) -> datetime:
    """``instant`` in UTC; a naive datetime is refused (an instant needs its zone)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput("Give the instant with its time zone, e.g. 2026-11-01T00:00:00Z.")
    return instant.astimezone(UTC)


@lru_cache(maxsize=1)
def _as_of_query() -> sa.Select:
    """The stored balance minus the postings after the instant (bound: account_id, day,
    instant). Built once."""
    account_id = sa.bindparam("account_id", type_=sa.Integer)
    day = sa.bindparam("day", type_=sa.Date)
    after = (
        sa.select(sa.func.coalesce(sa.func.sum(_p.c.amount_minor), 0))
        .where(
            _p.c.account_id == account_id,
            _p.c.value_date >= day,
            sa.or_(
                _p.c.value_date > day,
                _p.c.created_at > sa.bindparam("instant", type_=_p.c.created_at.type),
            ),
        )
        .scalar_subquery()
    )
    return sa.select(sa.cast(_accounts.c.balance_minor - after, sa.BigInteger)).where(
        _accounts.c.id == account_id
    )


def balance_as_of(account_id: int, instant: datetime) -> int:
    """The account's balance at ``instant`` by value date (the module's rule), in minor
    units of its currency. An unknown account is ``NotFound``."""
    at = utc_instant(instant)
    params = {"account_id": account_id, "day": at.date(), "instant": at}
    found = session().execute(_as_of_query(), params).first()
    if found is None:
        raise NotFound("No such account.")
    return int(found[0])
