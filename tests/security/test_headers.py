"""Security headers on every response; no-store on signed-in pages; no inline code in templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask

from tests import factories
from tests.webclient import WebClient
from vaulta import PROJECT_ROOT, create_app
from vaulta.extensions import db
from vaulta.models import User

# (path, who is signed in): a sample of every kind of page, including errors.
PAGES = [
    ("/login", None),
    ("/nowhere", None),
    ("/admin/", "admin"),
    ("/settings", "admin"),
    ("/settings/password", "admin"),
    ("/nowhere", "admin"),
    ("/", "customer"),
    ("/settings", "customer"),
    ("/admin/", "customer"),  # 403
]


def _client_for(client: WebClient, who: str | None, admin: User, customer_user: User) -> WebClient:
    if who == "admin":
        client.sign_in(admin)
    elif who == "customer":
        client.sign_in(customer_user)
    return client


def assert_security_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")


@pytest.mark.parametrize(("path", "who"), PAGES)
def test_every_page_has_the_security_headers(
    client: WebClient, admin: User, customer_user: User, path: str, who: str | None
) -> None:
    response = _client_for(client, who, admin, customer_user).get(path)
    assert response.status_code in (200, 403, 404)
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # not outside production
    if who:
        assert response.headers["Cache-Control"] == "no-store"
    else:
        assert "no-store" not in response.headers.get("Cache-Control", "")


def test_htmx_partials_and_redirects_have_them_too(admin_client: WebClient) -> None:
    partial = admin_client.htmx("GET", "/settings")
    assert_security_headers(partial)
    assert partial.headers["Cache-Control"] == "no-store"
    redirect = admin_client.get("/login")  # signed in: redirected home
    assert redirect.status_code == 302
    assert_security_headers(redirect)
    assert redirect.headers["Cache-Control"] == "no-store"


def test_static_files_are_cacheable_but_still_nosniff(admin_client: WebClient) -> None:
    response = admin_client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_hsts_in_production(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    monkeypatch.setenv("RATELIMIT_SINGLE_PROCESS", "1")  # one app, in-memory counts
    app = create_app("production")
    response = app.test_client().get("/login")
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert_security_headers(response)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_security_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("RATELIMIT_LOGIN", "7/minute")
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "15")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["RATELIMIT_LOGIN"] == "7/minute"
    assert app.config["SESSION_IDLE_MINUTES"] == 15
    with app.app_context():
        db.engine.dispose()


INLINE_CODE = [
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on (needs eval)"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_no_template_has_inline_code_the_csp_would_block() -> None:
    found = []
    for path in sorted(Path(PROJECT_ROOT, "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE_CODE:
            if pattern.search(text):
                found.append(f"{path.relative_to(PROJECT_ROOT)}: {what}")
    assert found == []


def test_the_htmx_config_adds_no_inline_styles(app: Flask) -> None:
    base = Path(PROJECT_ROOT, "templates", "base.html").read_text(encoding="utf-8")
    assert '"includeIndicatorStyles": false' in base


def test_login_never_sets_a_remember_me_cookie(client: WebClient, admin: User) -> None:
    response = client.post_form("/login", {"email": admin.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # development/testing over http
    assert "Expires" not in session_cookie  # a browser-session cookie


def test_production_session_cookie_is_secure(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-secret-0123456789")
    monkeypatch.setenv("RATELIMIT_SINGLE_PROCESS", "1")  # one app, in-memory counts
    monkeypatch.setenv("MAIL_BACKEND", "console")  # the admin's second-factor code
    monkeypatch.setenv("MAIL_OUTBOX_DIR", str(tmp_path))
    app = create_app("production")
    with app.app_context():
        admin = factories.make_admin("prod-admin@example.test")
        client = app.test_client()
        page = client.get("/login", base_url="https://localhost")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        assert token is not None
        response = client.post(
            "/login",
            data={"email": admin.email, "password": factories.PASSWORD, "csrf_token": token[1]},
            base_url="https://localhost",
            headers={"Referer": "https://localhost/login"},
        )
        assert response.status_code == 302
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        db.session.remove()
        db.engine.dispose()
