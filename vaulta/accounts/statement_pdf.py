"""Statements as PDF: the print template rendered by WeasyPrint.

The template (templates/statements/statement.pdf.html) and its stylesheet
(statement_pdf.css, beside this module) are self-contained; WeasyPrint gets
a URL fetcher that allows no protocol at all, so nothing in a statement can make the
server fetch anything.

``issue_month`` is the one way a past month's statement is produced and kept, whether on
its first request once the month's backdating window has closed
(vaulta/accounts/statement_routes.py) or by the monthly job (vaulta/ops/statements.py): a
kept monthly statement is dated the first day after its month (not the day it happened
to be rendered), so either path writes the same bytes. Before the window closes
(``statement_archive.window_closes``) ``month_document`` renders it on request, dated
today and marked provisional, and keeps nothing.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from vaulta.models import Account, User, utcnow
from vaulta.services.ledger import statement_periods
from vaulta.services.ledger.statement_periods import PeriodStatement
from vaulta.services.reports import statement_archive
from vaulta.services.reports.statement_archive import StoredStatement

TEMPLATE = "statements/statement.pdf.html"
STYLESHEET = Path(__file__).with_name("statement_pdf.css")


@cache
def _stylesheet() -> CSS:
    """The print stylesheet, parsed once per process."""
    return CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=_no_fetching())


def _no_fetching() -> URLFetcher:
    return URLFetcher(allowed_protocols=())


class MonthDocument(NamedTuple):
    """A monthly statement as served: the kept one (with its digest), or a provisional one
    rendered now (``sha256`` None)."""

    pdf: bytes
    sha256: str | None

    @property
    def provisional(self) -> bool:
        return self.sha256 is None


def render_statement_pdf(
    account: Account,
    period: PeriodStatement,
    *,
    issued_on: date | None = None,
    provisional_until: date | None = None,
) -> bytes:
    """The statement of ``period`` for ``account`` (and its customer) as PDF bytes, dated
    ``issued_on`` (today unless given); ``provisional_until`` marks a monthly statement
    whose backdating window closes that day."""
    html = render_template(
        TEMPLATE,
        bank_name=current_app.config["BANK_NAME"],
        account=account,
        customer=account.customer,
        period=period,
        issued_on=issued_on or utcnow().date(),
        provisional_until=provisional_until,
    )
    document = HTML(string=html, url_fetcher=_no_fetching())
    pdf = document.write_pdf(stylesheets=[_stylesheet()])
    if pdf is None:  # pragma: no cover - write_pdf returns bytes when given no target
        raise RuntimeError("WeasyPrint wrote no PDF")
    return pdf


def render_month(account: Account, month: date) -> bytes:
    """The statement of the calendar month starting ``month``: dated the day after it once
    its backdating window has closed, else dated today and marked provisional."""
    last = statement_archive.last_day(month)
    period = statement_periods.period_statement(account, month, last)
    if statement_archive.is_final(month):
        return render_statement_pdf(account, period, issued_on=statement_archive.next_month(month))
    closes = statement_archive.window_closes(month)
    return render_statement_pdf(account, period, provisional_until=closes)


def issue_month(account: Account, month: date, *, actor: User | None) -> StoredStatement:
    """The account's kept statement for ``month``: the stored one, else rendered now and
    stored (``actor`` None: the scheduler). A month whose backdating window is still open
    is ``Conflict`` (nothing is stored); raises ``UnderMaintenance`` from the store."""
    statement_archive.check_month(account, month)
    kept = statement_archive.stored(account.id, month)
    if kept is not None:
        return kept
    return statement_archive.store(account, month, render_month(account, month), actor=actor)


def month_document(account: Account, month: date, *, actor: User | None) -> MonthDocument:
    """The month's statement as served on request: the kept one; else, once its
    backdating window has closed, issued and kept now (``issue_month``); else rendered now,
    provisional, and not kept."""
    statement_archive.check_month(account, month)
    kept = statement_archive.stored(account.id, month)
    if kept is None and not statement_archive.is_final(month):
        return MonthDocument(render_month(account, month), None)
    if kept is None:
        kept = issue_month(account, month, actor=actor)
    return MonthDocument(kept.pdf, kept.sha256)
