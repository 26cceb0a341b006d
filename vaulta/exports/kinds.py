"""What each export holds: its rows from JSON-ready filters, and the same rows as CSV lines
and as XLSX cells. The routes stream a small export from here and the background job
writes a large one from here, so both are the same file.

- ``transactions``: the transaction search (``ledger.export``);
- ``audit_log``: the filtered audit log (``audit.export``);
- ``inbox``: what the viewer may decide, with the inbox's filters (``requests.decide``);
- ``my_requests``: the viewer's own change requests (staff who make requests).

The last two live in vaulta/exports/request_kinds.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from vaulta.exports import request_kinds
from vaulta.models.export_job import (
    EXPORT_AUDIT_LOG,
    EXPORT_INBOX,
    EXPORT_MY_REQUESTS,
    EXPORT_TRANSACTIONS,
)
from vaulta.money import format_plain
from vaulta.services.audit import audit_queries
from vaulta.services.ledger import transaction_search
from vaulta.services.ledger.transaction_search import TransactionFilters
from vaulta.spreadsheets import DATE, INTEGER, MONEY, Column, Money

Row = Any


@dataclass(frozen=True)
class ExportKind:
    name: str
    title: str  # for pages: "Transactions"
    permission: str  # needed to ask for it and to download it
    stem: str  # of the file name
    sheet: str
    csv_header: Sequence[str]
    columns: Sequence[Column]  # XLSX
    rows: Callable[[Mapping[str, Any]], Iterator[Row]]  # checks the filters first
    csv_row: Callable[[Row], Sequence[Any]]
    xlsx_row: Callable[[Row], Sequence[Any]]


def _day(text: Any) -> date | None:
    return date.fromisoformat(text) if text else None


def _json_ready(filters: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in filters.items()}


# Transactions -------------------------------------------------------------------------

TRANSACTIONS_CSV_HEADER = (
    "id",
    "created_at",
    "kind",
    "debit_account",
    "credit_account",
    "amount",
    "currency",
    "description",
    "reference",
    "reverses_id",
    "created_by",
)
# The same columns as the CSV, as cells: numbers, UTC date-times, amounts in major units.
TRANSACTIONS_XLSX_COLUMNS = (
    Column("id", INTEGER, 10),
    Column("created_at (UTC)", DATE, 20),
    Column("kind"),
    Column("debit_account", width=16),
    Column("credit_account", width=16),
    Column("amount", MONEY),
    Column("currency", width=9),
    Column("description", width=40),
    Column("reference", width=20),
    Column("reverses_id", INTEGER, 12),
    Column("created_by", width=28),
)


def transaction_filters_json(filters: TransactionFilters) -> dict[str, Any]:
    return _json_ready(asdict(filters))


def _transaction_rows(filters: Mapping[str, Any]) -> Iterator[Row]:
    values = dict(filters)
    values["date_from"], values["date_to"] = (
        _day(values.get("date_from")),
        _day(values.get("date_to")),
    )
    return transaction_search.iter_search(TransactionFilters(**values))


def _transaction_cells(row: Row) -> list[Any]:
    return [
        row.id,
        row.created_at,
        row.kind,
        row.debit_number,
        row.credit_number,
        Money(row.amount_minor, row.currency),
        row.currency,
        row.description,
        row.reference,
        row.reverses_id,
        row.created_by_email,
    ]


def _transaction_line(row: Row) -> list[Any]:
    return [
        row.id,
        row.created_at.isoformat(),
        row.kind,
        row.debit_number,
        row.credit_number,
        format_plain(row.amount_minor, row.currency),
        row.currency,
        row.description,
        row.reference or "",
        row.reverses_id or "",
        row.created_by_email,
    ]


# The audit log ------------------------------------------------------------------------

AUDIT_XLSX_COLUMNS = (
    Column("id", INTEGER, 10),
    Column("created_at (UTC)", DATE, 20),
    Column("actor", width=28),
    Column("action", width=24),
    Column("object_type"),
    Column("object_id"),
    Column("details", width=60),
    Column("client_address", width=16),
)
AUDIT_FILTERS = ("actor", "action", "object_type", "object_id", "date_from", "date_to")


def audit_filters_json(**filters: Any) -> dict[str, Any]:
    return _json_ready({k: filters.get(k) for k in AUDIT_FILTERS})


def _audit_rows(filters: Mapping[str, Any]) -> Iterator[Row]:
    values = {k: filters.get(k) for k in AUDIT_FILTERS}
    values["date_from"], values["date_to"] = _day(values["date_from"]), _day(values["date_to"])
    return audit_queries.iter_events(**values)


def _details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True)


def _audit_cells(row: Row) -> tuple[Any, ...]:
    return (
        row.id,
        row.created_at,
        row.actor_email or "system",
        row.action,
        row.object_type,
        row.object_id,
        _details(row.details),
        row.client_address,
    )


def _audit_line(row: Row) -> tuple[Any, ...]:
    return (
        row.id,
        row.created_at.isoformat(),
        row.actor_email or "system",
        row.action,
        row.object_type,
        row.object_id or "",
        _details(row.details),
        row.client_address or "",
    )


KINDS: dict[str, ExportKind] = {
    EXPORT_TRANSACTIONS: ExportKind(
        name=EXPORT_TRANSACTIONS,
        title="Transactions",
        permission="ledger.export",
        stem="transactions",
        sheet="Transactions",
        csv_header=TRANSACTIONS_CSV_HEADER,
        columns=TRANSACTIONS_XLSX_COLUMNS,
        rows=_transaction_rows,
        csv_row=_transaction_line,
        xlsx_row=_transaction_cells,
    ),
    EXPORT_AUDIT_LOG: ExportKind(
        name=EXPORT_AUDIT_LOG,
        title="Audit log",
        permission="audit.export",
        stem="audit-log",
        sheet="Audit log",
        csv_header=tuple(c.header for c in AUDIT_XLSX_COLUMNS),
        columns=AUDIT_XLSX_COLUMNS,
        rows=_audit_rows,
        csv_row=_audit_line,
        xlsx_row=_audit_cells,
    ),
    EXPORT_INBOX: ExportKind(
        name=EXPORT_INBOX,
        title="Inbox",
        permission="requests.decide",
        stem="inbox",
        sheet="Inbox",
        csv_header=request_kinds.REQUEST_CSV_HEADER,
        columns=request_kinds.REQUEST_COLUMNS,
        rows=request_kinds.inbox_rows,
        csv_row=request_kinds.request_line,
        xlsx_row=request_kinds.request_cells,
    ),
    EXPORT_MY_REQUESTS: ExportKind(
        name=EXPORT_MY_REQUESTS,
        title="My requests",
        permission="staff.dashboard",  # and a maker: the view checks that
        stem="my-requests",
        sheet="My requests",
        csv_header=request_kinds.REQUEST_CSV_HEADER,
        columns=request_kinds.REQUEST_COLUMNS,
        rows=request_kinds.mine_rows,
        csv_row=request_kinds.request_line,
        xlsx_row=request_kinds.request_cells,
    ),
}
