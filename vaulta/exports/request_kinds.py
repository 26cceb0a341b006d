"""The rows of the change-request exports (vaulta/exports/kinds.py registers them):

- ``inbox``: what the viewer may decide now, with the inbox's filters, oldest first;
- ``my_requests``: the requests the viewer made, newest first.

Both are one viewer's lists, so their JSON filters carry ``viewer_id``: set by the view
from the signed-in user (never from the query string) and read again by the background
job, which lists the requests as that user may see them when the file is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, fields
from typing import Any

from vaulta.models import User
from vaulta.money import format_plain
from vaulta.services.changes import change_queries
from vaulta.services.changes.actions import ACTIONS
from vaulta.services.changes.change_queries import InboxFilters
from vaulta.services.unit_of_work import session
from vaulta.spreadsheets import DATE, INTEGER, MONEY, Column, Money

Row = Any
INBOX_FILTERS = tuple(f.name for f in fields(InboxFilters))

REQUEST_COLUMNS = (
    Column("id", INTEGER, 10),
    Column("created_at (UTC)", DATE, 20),
    Column("action", width=24),
    Column("status", width=10),
    Column("summary", width=48),
    Column("customer_number", width=16),
    Column("customer", width=24),
    Column("amount", MONEY),
    Column("currency", width=9),
    Column("maker", width=28),
    Column("levels_approved", INTEGER, 10),
    Column("levels_required", INTEGER, 10),
    Column("expires_at (UTC)", DATE, 20),
    Column("decided_at (UTC)", DATE, 20),
    Column("failure_reason", width=40),
)
REQUEST_CSV_HEADER = tuple(c.header.removesuffix(" (UTC)") for c in REQUEST_COLUMNS)


def inbox_filters_json(viewer: User, filters: InboxFilters) -> dict[str, Any]:
    return {"viewer_id": viewer.id, **asdict(filters)}


def mine_filters_json(viewer: User) -> dict[str, Any]:
    return {"viewer_id": viewer.id}


def _viewer(filters: Mapping[str, Any]) -> User | None:
    viewer_id = filters.get("viewer_id")
    return session().get(User, int(viewer_id)) if viewer_id is not None else None


def inbox_rows(filters: Mapping[str, Any]) -> Iterator[Row]:
    viewer = _viewer(filters)
    if viewer is None:
        return iter(())
    wanted = InboxFilters(**{k: filters.get(k) for k in INBOX_FILTERS})
    return change_queries.iter_decidable(viewer, wanted)


def mine_rows(filters: Mapping[str, Any]) -> Iterator[Row]:
    viewer = _viewer(filters)
    return change_queries.iter_made_by(viewer) if viewer is not None else iter(())


def _label(action: str) -> str:
    spec = ACTIONS.get(action)
    return spec.label if spec else action


def request_cells(row: Row) -> list[Any]:
    """One request as cells: numbers, UTC date-times, the amount in major units."""
    amount = Money(row.amount_minor, row.currency) if row.amount_minor is not None else None
    return [
        row.id,
        row.created_at,
        _label(row.action),
        row.status,
        row.summary,
        row.customer_number,
        row.customer_name,
        amount,
        row.currency,
        row.maker_email,
        row.levels_approved,
        row.levels_required,
        row.expires_at,
        row.decided_at,
        row.failure_reason,
    ]


def request_line(row: Row) -> list[Any]:
    """One request as a CSV line (ISO date-times, the plain amount)."""
    amount = format_plain(row.amount_minor, row.currency) if row.amount_minor is not None else ""
    return [
        row.id,
        row.created_at.isoformat(),
        _label(row.action),
        row.status,
        row.summary,
        row.customer_number or "",
        row.customer_name or "",
        amount,
        row.currency or "",
        row.maker_email,
        row.levels_approved,
        row.levels_required,
        row.expires_at.isoformat(),
        row.decided_at.isoformat() if row.decided_at else "",
        row.failure_reason or "",
    ]
