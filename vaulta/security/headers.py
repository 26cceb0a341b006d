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

from typing import Any

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


# Headers a view may have set itself (kept), and headers always set (replacing any).
_DEFAULTED = ("Content-Security-Policy", "Referrer-Policy", "Cross-Origin-Opener-Policy")
_FIXED = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"))


def _headers_for(cfg: Any) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str], ...]]:
    """The (name, lower-case name, value) defaults and the fixed headers for this config,
    built once per combination of settings."""
    key = (
        cfg.get("CONTENT_SECURITY_POLICY", DEFAULT_CSP),
        cfg.get("REFERRER_POLICY", "strict-origin-when-cross-origin"),
        cfg.get("STRICT_TRANSPORT_SECURITY"),
    )
    plan = _PLANS.get(key)
    if plan is None:
        csp, referrer, hsts = key
        values = (csp, referrer, "same-origin")
        defaults = tuple((n, n.lower(), v) for n, v in zip(_DEFAULTED, values, strict=True))
        fixed = _FIXED + ((("Strict-Transport-Security", hsts),) if hsts else ())
        plan = _PLANS[key] = (defaults, fixed)
    return plan


_PLANS: dict[tuple[Any, ...], Any] = {}


def set_security_headers(response: Response) -> Response:
    defaults, fixed = _headers_for(current_app.config)
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # noqa: SIM118 (Headers, not a dict)
    for name, lower, value in defaults:
        if lower not in present:
            headers.add(name, value)
    for name, value in fixed:
        if name.lower() in present:
            headers.set(name, value)
        else:
            headers.add(name, value)
    if request.endpoint != "static" and current_user.is_authenticated:
        headers["Cache-Control"] = "no-store"
        if "expires" in present:
            headers.pop("Expires", None)
    return response


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
