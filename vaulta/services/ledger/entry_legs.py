"""The postings (legs) of a page of entries, for the staff account page.

One query for the whole page: the postings of the given entries through
``ix_postings_transaction_id``, with each leg's account number, grouped by entry in
posting order. Staff only: a leg shows another account's number and amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

import sqlalchemy as sa

from vaulta.models import Account, Posting
from vaulta.services.unit_of_work import session

_p = Posting.__table__
_accounts = Account.__table__


class EntryLeg(NamedTuple):
    transaction_id: int
    posting_id: int
    account_number: str
    amount_minor: int  # signed: credit positive, debit negative
    currency: str
    value_date: date


def legs_of(transaction_ids: Iterable[int]) -> dict[int, list[EntryLeg]]:
    """Every posting of each entry in ``transaction_ids``, by entry id."""
    ids = sorted(set(transaction_ids))
    if not ids:
        return {}
    query = (
        sa.select(
            _p.c.transaction_id,
            _p.c.id,
            _accounts.c.number,
            _p.c.amount_minor,
            _p.c.currency,
            _p.c.value_date,
        )
        .join(_accounts, _accounts.c.id == _p.c.account_id)
        .where(_p.c.transaction_id.in_(ids))
        .order_by(_p.c.transaction_id, _p.c.id)
    )
    found: dict[int, list[EntryLeg]] = {}
    for row in session().execute(query):
        leg = EntryLeg(*row)
        found.setdefault(leg.transaction_id, []).append(leg)
    return found
