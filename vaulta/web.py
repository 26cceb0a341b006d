"""htmx helpers: one place decides full page or partial, and redirects that htmx follows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, make_response, redirect, render_template, request
from markupsafe import Markup

from vaulta.money import format_amount
from vaulta.services import audit
from vaulta.services.errors import DomainError

if TYPE_CHECKING:
    from vaulta.models import ChangeRequest


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_partial() -> bool:
    """True for an htmx request that swaps a fragment.

    Boosted requests and history restores (a cache miss on back/forward) need the whole
    page, so they get it.
    """
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, partial: str | None = None, *, status: int = 200, **context: Any) -> Response:
    """Render ``partial`` for htmx fragment requests, otherwise the full ``page``."""
    template = partial if partial and wants_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def redirect_to(url: str) -> Response:
    """A redirect that works for plain and htmx requests (htmx follows ``HX-Redirect``)."""
    if wants_partial():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url)


def request_url(request_id: int) -> str:
    """The page of a change request (the checker inbox's, vaulta/inbox)."""
    return f"{request.script_root}/admin/requests/{int(request_id)}"


def awaiting_approval(made: ChangeRequest, *, duplicate: bool = False) -> Markup:
    """What a maker is told once their change request is made (or, ``duplicate``, when the
    same one was already pending): "Request #N for 250.00 EUR awaits approval." with
    "Request #N" linking to it, or what became of it when a policy let it execute at once.
    The one wording of flashes and of the panels' notice (templates/inbox/_submitted.html,
    where it is the template global ``awaiting_approval``)."""
    amount = ""
    if made.amount_minor is not None and made.currency:
        amount = f" for {format_amount(made.amount_minor, made.currency)}"
    state = "awaits approval" if made.is_pending else f"is {made.status}"
    first = "A request for this is already pending: " if duplicate else ""
    return Markup('{}<a href="{}">Request #{}</a>{} {}.').format(
        first, request_url(made.id), int(made.id), amount, state
    )


def refusal(err: DomainError) -> str | Markup:
    """A refused request's message; a duplicate of a pending change request links to it."""
    first_id = getattr(err, "first_id", None)
    if isinstance(first_id, int):
        return Markup('{} <a href="{}">See request #{}</a>.').format(
            err.message, request_url(first_id), first_id
        )
    return err.message


def stream_csv(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """Stream rows as a CSV download, one chunk at a time (never the whole file in memory).

    Cells that a spreadsheet would run as a formula are prefixed with a quote.
    """
    response = Response(csv_chunks(header, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and rows as CSV text, every 500 rows a chunk, formula-like cells quoted
    (``safe_cell``): for the streamed downloads and the export files (vaulta/exports/)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, row in enumerate(_chain([header], rows)):
        writer.writerow([safe_cell(v) for v in row])
        if index % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _chain(*iterables: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    for iterable in iterables:
        yield from iterable


def safe_cell(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula, with a leading quote (CSV and XLSX)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def register(app: Flask) -> None:
    """Per-request context the services may use without reading the request themselves."""

    @app.before_request
    def _remember_client_address() -> None:
        audit.client_address.set(request.remote_addr)
