"""Fixtures for payment tests: a private mail outbox (``source`` and ``target`` accounts are
in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_outbox(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Console mail goes to this test's own folder."""
    if "app" in request.fixturenames:
        app = request.getfixturevalue("app")
        app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
