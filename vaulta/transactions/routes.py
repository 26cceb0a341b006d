"""Views of the transactions blueprint: search, CSV and XLSX export, detail and the reversal
request (a change request: the opposite transaction is posted once an approver approves it)."""

from __future__ import annotations

from flask import current_app, flash, url_for
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.exports import routes as exports
from vaulta.exports.kinds import KINDS, transaction_filters_json
from vaulta.forms import show_error
from vaulta.models import ChangeRequest
from vaulta.models.export_job import EXPORT_TRANSACTIONS
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError, NotFound
from vaulta.services.ledger import transaction_search
from vaulta.transactions import bp
from vaulta.transactions.forms import ReverseForm, TransactionSearchForm
from vaulta.web import awaiting_approval, redirect_to, render, wants_partial


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


def _export(file_format: str) -> Response:
    """Every matching transaction: streamed when at most ``EXPORT_INLINE_MAX_ROWS``, else
    prepared in the background (vaulta/exports/routes.py)."""
    form = TransactionSearchForm.from_query()
    if not form.validate():
        return _render_search(form, None, 422)
    filters = transaction_filters_json(form.filters())
    try:
        return exports.respond(KINDS[EXPORT_TRANSACTIONS], file_format, filters)
    except DomainError as err:
        show_error(form, err, required=True)
        return _render_search(form, None, err.status)


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
    flash(awaiting_approval(made, duplicate=duplicate), "info" if duplicate else "success")
    return redirect_to(url_for("inbox.detail", request_id=made.id))
