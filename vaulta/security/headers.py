"""Security headers on every response (after_request).

- ``Content-Security-Policy`` from CONTENT_SECURITY_POLICY: scripts and styles from our own
  origin only, no ``unsafe-inline``/``unsafe-eval``; htmx 2 works under it because its config
  sits in ``<meta name="htmx-config">`` with ``includeIndicatorStyles: false`` (no injected
  ``<style>``) and no template uses ``hx-on``, inline scripts or ``style=""`` attributes.
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy``,
  ``Cross-Origin-Opener-Policy: same-origin``.
- ``Strict-Transport-Security`` when STRICT_TRANSPORT_SECURITY is set (production).
- ``Cache-Control: no-store`` on every response to a signed-in user, static files excepted.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

DEFAULT_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    cfg = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", cfg.get("CONTENT_SECURITY_POLICY", DEFAULT_CSP))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault(
        "Referrer-Policy", cfg.get("REFERRER_POLICY", "strict-origin-when-cross-origin")
    )
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    hsts = cfg.get("STRICT_TRANSPORT_SECURITY")
    if hsts:
        headers["Strict-Transport-Security"] = hsts
    if request.endpoint != "static" and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
