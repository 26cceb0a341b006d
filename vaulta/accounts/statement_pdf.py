"""Statements as PDF: the print template rendered by WeasyPrint.

The template (templates/statements/statement.pdf.html) and its stylesheet
(statement_pdf.css, beside this module) are self-contained; WeasyPrint gets
a URL fetcher that allows no protocol at all, so nothing in a statement can make the
server fetch anything.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

from vaulta.models import Account, utcnow
from vaulta.services.ledger.statement_periods import PeriodStatement

TEMPLATE = "statements/statement.pdf.html"
STYLESHEET = Path(__file__).with_name("statement_pdf.css")


@cache
def _stylesheet() -> CSS:
    """The print stylesheet, parsed once per process."""
    return CSS(string=STYLESHEET.read_text(encoding="utf-8"), url_fetcher=_no_fetching())


def _no_fetching() -> URLFetcher:
    return URLFetcher(allowed_protocols=())


def render_statement_pdf(account: Account, period: PeriodStatement) -> bytes:
    """The statement of ``period`` for ``account`` (and its customer) as PDF bytes."""
    html = render_template(
        TEMPLATE,
        bank_name=current_app.config["BANK_NAME"],
        account=account,
        customer=account.customer,
        period=period,
        issued_on=utcnow().date(),
    )
    document = HTML(string=html, url_fetcher=_no_fetching())
    pdf = document.write_pdf(stylesheets=[_stylesheet()])
    if pdf is None:  # pragma: no cover - write_pdf returns bytes when given no target
        raise RuntimeError("WeasyPrint wrote no PDF")
    return pdf
