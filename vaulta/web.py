"""htmx helpers: one place decides full page or partial, and redirects that htmx follows."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, redirect, render_template, request


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
