"""Fixtures for the security tests: fresh rate-limit counts, a controllable clock, helpers."""

from __future__ import annotations

import os

import pytest
from flask import Flask
from limits.storage import MemoryStorage

from tests.webclient import WebClient, web_client
from vaulta.extensions import limiter
from vaulta.security import session_timeouts


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request: pytest.FixtureRequest) -> None:
    """Every test that builds an app starts from zero counts (in-memory storage only)."""
    if "app" in request.fixturenames:
        request.getfixturevalue("app")
        if isinstance(limiter.storage, MemoryStorage):
            limiter.reset()


REDIS_URL = os.environ.get("VAULTA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_url_or_skip() -> str:
    """The Redis for shared rate-limit storage tests; skip without it (fail with
    VAULTA_REQUIRE_REDIS=1)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as err:
        message = f"the Redis rate-limit test needs Redis at {REDIS_URL} ({err})"
        if os.environ.get("VAULTA_REQUIRE_REDIS") == "1":
            pytest.fail(message + " but VAULTA_REQUIRE_REDIS=1")
        pytest.skip(message)
    return REDIS_URL


class Clock:
    """A clock the session module reads instead of the real one."""

    def __init__(self, start: float = 1_900_000_000.0) -> None:
        self.now = start

    def advance(self, *, minutes: float = 0, hours: float = 0) -> None:
        self.now += minutes * 60 + hours * 3600

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(session_timeouts, "now", c)
    return c


def copy_session(source: WebClient, app: Flask) -> WebClient:
    """A second client holding a copy of ``source``'s session cookie (a stolen cookie)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = source.get_cookie(name)
    assert cookie is not None
    thief = web_client(app)
    thief.set_cookie(name, cookie.value)
    return thief
