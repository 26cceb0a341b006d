"""One place turns errors into responses: pages, htmx partials or JSON for the API."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from vaulta.extensions import db
from vaulta.services.errors import DomainError
from vaulta.web import is_htmx

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    422: "Check your input",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, code: str) -> Response:
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
        response.status_code = status
        return response
    title = TITLES.get(status, "Error")
    if is_htmx():
        html = render_template("errors/_error.html", status=status, title=title, message=message)
        response = Response(html, status, mimetype="text/html")
        # Show the message in the page's message area, whatever the request targeted.
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    else:
        html = render_template("errors/error.html", status=status, title=title, message=message)
        response = Response(html, status, mimetype="text/html")
    response.vary.add("HX-Request")
    return response


def _domain_error(err: DomainError) -> Response:
    db.session.rollback()
    return error_response(err.status, err.message, err.code)


def _csrf_error(err: CSRFError) -> Response:
    message = "The form expired or was sent without its security token. Reload and try again."
    return error_response(400, message, "csrf_failed")


def _http_error(err: HTTPException) -> Response:
    status = err.code or 500
    messages = {
        403: "You do not have access to this page.",
        404: "There is nothing here.",
        405: "This address does not accept that method.",
    }
    message = messages.get(status, err.description or TITLES.get(status, "Error"))
    response = error_response(status, message, (err.name or "error").lower().replace(" ", "_"))
    if status == 405 and err.valid_methods:
        response.headers["Allow"] = ", ".join(err.valid_methods)
    return response


def _server_error(err: Exception) -> Response:
    db.session.rollback()
    original = getattr(err, "original_exception", None) or err
    if not isinstance(original, InternalServerError):
        log.exception("unhandled error on %s %s", request.method, request.path, exc_info=original)
    return error_response(500, "We could not complete this request. Nothing was changed.", "error")


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(500, _server_error)
