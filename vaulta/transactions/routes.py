"""Views of the transactions blueprint: search, CSV export, detail and the reversal request
(a change request: the opposite transaction is posted once an approver approves it)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import current_app, flash, stream_with_context, url_for
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.forms import show_error
from vaulta.inbox.rows import submitted_message
from vaulta.models import ChangeRequest
from vaulta.money import format_plain
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError, NotFound
from vaulta.services.ledger import transaction_search
from vaulta.spreadsheets import DATE, INTEGER, MONEY, Column, Money, send_xlsx
from vaulta.transactions import bp
from vaulta.transactions.forms import ReverseForm, TransactionSearchForm
from vaulta.web import redirect_to, render, stream_csv, wants_partial

CSV_HEADER = (
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
XLSX_COLUMNS = (
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


def _render_search(
    form: TransactionSearchForm,
    page: transaction_search.TransactionPage | None,
    status: int,
) -> Response:
    return render(
        "transactions/search.html",
        "transactions/_results.html",
        status=status,
        **form.page_context(page),
    )


@bp.route("/")
@require_permission("ledger.read")
def search() -> Response:
    form = TransactionSearchForm.from_query()
    if not form.validate():
        return _render_search(form, None, 422)
    try:
        page = transaction_search.search(
            form.filters(),
            before_id=form.before_id,
            limit=current_app.config["PAGE_SIZE"],
        )
    except DomainError as err:
        show_error(form, err, required=True)
        return _render_search(form, None, err.status)
    return _render_search(form, page, 200)


@bp.route("/export.csv")
@require_permission("ledger.export")
def export() -> Response:
    return _export("csv")


@bp.route("/export.xlsx")
@require_permission("ledger.export")
def export_xlsx() -> Response:
    return _export("xlsx")


def _export(kind: str) -> Response:
    form = TransactionSearchForm.from_query()
    if not form.validate():
        return _render_search(form, None, 422)
    try:
        rows = transaction_search.iter_search(form.filters())
    except DomainError as err:
        show_error(form, err, required=True)
        return _render_search(form, None, err.status)
    filename = f"transactions-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    if kind == "xlsx":
        return send_xlsx(f"{filename}.xlsx", "Transactions", XLSX_COLUMNS, _xlsx_rows(rows))
    return stream_csv(f"{filename}.csv", CSV_HEADER, stream_with_context(_csv_rows(rows)))


def _xlsx_rows(rows: Iterable[Any]) -> Iterator[list[Any]]:
    for row in rows:
        yield [
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


def _csv_rows(rows: Iterable[Any]) -> Iterator[list[Any]]:
    for row in rows:
        yield [
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


def _render_detail(
    tx_id: int,
    form: ReverseForm,
    status: int = 200,
    *,
    submitted: ChangeRequest | None = None,
    duplicate: bool = False,
) -> Response:
    detail = transaction_search.get_detail(tx_id)
    return render(
        "transactions/detail.html",
        "transactions/_reverse.html",
        status=status,
        detail=detail,
        tx=detail.transaction,
        form=form,
        submitted=submitted,
        duplicate=duplicate,
    )


@bp.route("/<int:tx_id>")
@require_permission("ledger.read")
def detail(tx_id: int) -> Response:
    return _render_detail(tx_id, ReverseForm())


@bp.route("/<int:tx_id>/reverse", methods=["POST"])
@require_permission("ledger.reversal.request")
def reverse(tx_id: int) -> Response:
    form = ReverseForm()
    if not form.validate():
        return _render_detail(tx_id, form, 422)
    duplicate = False
    try:
        made = change_requests.submit(
            "ledger.reversal",
            {"transaction_id": tx_id, "reason": (form.reason.data or "").strip()},
            actor=acting_user(),
        )
    except change_requests.DuplicateRequest as err:
        made, duplicate = change_requests.get(err.first_id), True
    except NotFound:
        raise
    except DomainError as err:
        show_error(form, err)
        return _render_detail(tx_id, form, err.status)
    if wants_partial():
        return _render_detail(
            tx_id, ReverseForm(formdata=None), submitted=made, duplicate=duplicate
        )
    flash(submitted_message(made, duplicate=duplicate), "info" if duplicate else "success")
    return redirect_to(url_for("inbox.detail", request_id=made.id))
