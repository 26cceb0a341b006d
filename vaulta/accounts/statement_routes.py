"""Statements as PDF, for the owning customer and for staff, by account number.

``/accounts/<number>/statements`` lists them (a page, or the account pages' htmx part).
``/accounts/<number>/statement.pdf?from=…&to=…`` renders any period on request.
``/accounts/<number>/statements/<YYYY-MM>.pdf`` is a past month's statement: once the
month's backdating window has closed, produced on its first request, then stored
(vaulta/services/reports/statement_archive.py) and served as stored, byte for byte, with
its SHA-256 as the ETag; before that, rendered on each request, marked provisional, with
no ETag and nothing stored. Another customer's account is a 404, as everywhere.
"""

from __future__ import annotations

from datetime import date

from flask import abort, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vaulta.accounts import bp
from vaulta.accounts import statement_pdf as pdf_documents
from vaulta.auth.access import acting_user
from vaulta.models import Account
from vaulta.services.banking import account_queries
from vaulta.services.errors import DomainError
from vaulta.services.identity import permissions
from vaulta.services.ledger import statement_periods
from vaulta.services.maintenance import UnderMaintenance
from vaulta.services.reports import statement_archive
from vaulta.web import render


def viewable_account(number: str) -> Account:
    """The account as the signed-in user may see it: any account for staff holding
    ``accounts.read`` (the auditor included; other staff get 403), a customer's
    own account only (another's is ``NotFound``)."""
    user = acting_user()
    if user.is_staff:
        if not permissions.has_permission(user, "accounts.read"):
            abort(403)
        return account_queries.get_account_by_number(number)
    if current_user.customer_id is None:  # pragma: no cover - forbidden by a check constraint
        abort(403)
    return account_queries.get_account_for_customer(number, current_user.customer_id)


def _required_date(name: str) -> date:
    text = (request.args.get(name) or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            f"Give the period's dates like 2025-01-31 ({name}={text!r}).", field=name
        ) from None


def _pdf(pdf: bytes, filename: str, etag: str | None = None) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if etag:
        response.set_etag(etag)
    return response


@bp.route("/accounts/<number>/statements")
@login_required
def statement_documents(number: str) -> Response:
    """The PDF statements of an account: a period on request, and the monthly ones. The
    account pages load it with htmx (so their own statements stay as they are) and link
    to it as a page without JS."""
    account = viewable_account(number)
    return render(
        "accounts/statement_documents.html",
        "accounts/_statement_documents.html",
        account=account,
        number=account.number,
        months=statement_archive.month_entries(account),
    )


@bp.route("/accounts/<number>/statement.pdf")
@login_required
def statement_pdf(number: str) -> Response:
    account = viewable_account(number)
    date_from, date_to = _required_date("from"), _required_date("to")
    period = statement_periods.period_statement(account, date_from, date_to)
    name = f"statement-{account.number}-{date_from.isoformat()}-{date_to.isoformat()}.pdf"
    return _pdf(pdf_documents.render_statement_pdf(account, period), name)


@bp.route("/accounts/<number>/statements/<month>.pdf")
@login_required
def monthly_statement_pdf(number: str, month: str) -> Response:
    account = viewable_account(number)
    first = statement_archive.parse_month(month)
    name = f"statement-{account.number}-{first.isoformat()[:7]}.pdf"
    try:
        document = pdf_documents.month_document(account, first, actor=acting_user())
    except UnderMaintenance:  # reads keep working; it is stored on a later request
        return _pdf(pdf_documents.render_month(account, first), name)
    if document.provisional:
        name = f"statement-{account.number}-{first.isoformat()[:7]}-provisional.pdf"
    return _pdf(document.pdf, name, etag=document.sha256)
