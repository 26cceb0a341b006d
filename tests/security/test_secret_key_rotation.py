"""Rotating SECRET_KEY: with the old key in SECRET_KEY_FALLBACKS sessions carry on; without it
they end (Flask's own signed-cookie sessions)."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.webclient import WebClient


def test_a_new_key_with_the_old_as_fallback_keeps_sessions(
    app: Flask, teller_client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert teller_client.get("/admin/customers/").status_code == 200
    old = app.secret_key
    monkeypatch.setattr(app, "secret_key", "a-new-and-long-random-secret-key")
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old])
    assert teller_client.get("/admin/customers/").status_code == 200


def test_a_new_key_without_fallback_ends_sessions(
    app: Flask, teller_client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert teller_client.get("/admin/customers/").status_code == 200
    monkeypatch.setattr(app, "secret_key", "a-new-and-long-random-secret-key")
    response = teller_client.get("/admin/customers/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
