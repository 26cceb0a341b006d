"""Webhook test helpers: a private mail outbox; an endpoint on a live local receiver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.webhook_receiver import Receiver, receiver


@pytest.fixture(autouse=True)
def _private_outbox(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if "app" in request.fixturenames:
        app: Flask = request.getfixturevalue("app")
        app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as live:
        yield live
