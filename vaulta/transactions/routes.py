"""Views of the transactions blueprint: search, CSV export, detail and reversal."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask import current_app, flash, request, stream_with_context, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.money import format_plain
from vaulta.services import ledger
from vaulta.services.errors import DomainError, NotFound
from vaulta.services.ledger import transaction_search
from vaulta.transactions import bp
from vaulta.transactions.forms import ReverseForm, TransactionSearchForm
from vaulta.web import redirect_to, render, stream_csv

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


def show_on_form(form: FlaskForm, err: DomainError) -> None:
    """Put a domain error on its field when the form has it, otherwise above the form."""
    if err.field and err.field in form:
        form[err.field].errors.append(err.message)
    else:
        form.form_errors.append(err.message)


def _search_form() -> TransactionSearchForm:
    return TransactionSearchForm(formdata=request.args)


def _render_search(
    form: TransactionSearchForm,
    page: transaction_search.TransactionPage | None,
    status: int,
) -> Response:
    return render(
        "transactions/search.html",
        "transactions/_results.html",
        status=status,
        form=form,
        results=page,
        args=form.query_args(),
        before=request.args.get("before", type=int),
    )


@bp.route("/")
@require_permission("ledger.read")
def search() -> Response:
    form = _search_form()
    if not form.validate():
        return _render_search(form, None, 422)
    try:
        page = transaction_search.search(
            form.filters(),
            before_id=request.args.get("before", type=int),
            limit=current_app.config["PAGE_SIZE"],
        )
    except DomainError as err:
        if err.field is None:
            raise
        show_on_form(form, err)
        return _render_search(form, None, err.status)
    return _render_search(form, page, 200)


@bp.route("/export.csv")
@require_permission("ledger.export")
def export() -> Response:
    form = _search_form()
    if not form.validate():
        return _render_search(form, None, 422)
    try:
        rows = transaction_search.iter_search(form.filters())
    except DomainError as err:
        if err.field is None:
            raise
        show_on_form(form, err)
        return _render_search(form, None, err.status)
    filename = f"transactions-{datetime.now(UTC):%Y%m%d-%H%M%S}.csv"
    return stream_csv(filename, CSV_HEADER, stream_with_context(_csv_rows(rows)))


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


def _render_detail(tx_id: int, form: ReverseForm, status: int = 200) -> Response:
    detail = transaction_search.get_detail(tx_id)
    return render(
        "transactions/detail.html",
        "transactions/_reverse.html",
        status=status,
        detail=detail,
        tx=detail.transaction,
        form=form,
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
    try:
        reversal = ledger.reverse(tx_id, actor=acting_user(), reason=form.reason.data)
    except NotFound:
        raise
    except DomainError as err:
        show_on_form(form, err)
        return _render_detail(tx_id, form, err.status)
    flash(f"Transaction #{tx_id} was reversed by transaction #{reversal.id}.", "success")
    return redirect_to(url_for("transactions.detail", tx_id=tx_id))
