"""Two gunicorn instances on two loopback ports sharing PostgreSQL and Redis.

Both run the testing configuration (plain-http cookies on loopback; production would mark
them Secure) with one SECRET_KEY, one DATABASE_URL and one RATELIMIT_STORAGE_URI: a session
made on one works on the other, sign-in attempts are counted once across both, and
concurrent approvals of one payment through both execute it exactly once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator

import pytest

from tests.factories import PASSWORD
from tests.scaleout.conftest import make_book, outcome, require_redis
from tests.scaleout.instances import Browser, Instance, running
from vaulta.models.payment import PAYMENT_EXECUTED

LOGIN_LIMIT = 6  # sign-in POSTs per client address per minute, on each instance's config


@pytest.fixture(scope="module")
def pair(
    postgres_database: str, shared_secret: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance]]:
    settings = {
        "SECRET_KEY": shared_secret,
        "RATELIMIT_STORAGE_URI": require_redis(),
        "RATELIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
    }
    logs = tmp_path_factory.mktemp("instances")
    with (
        running(postgres_database, logs, **settings) as first,
        running(postgres_database, logs, **settings) as second,
    ):
        yield first, second


def own_address() -> str:
    """A loopback address for this test alone (rate limits count per client address)."""
    return f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"


def race(posts: list[tuple[Browser, str, str]]) -> list[int]:
    """POST each (browser, url, CSRF token) at the same moment from its own thread."""
    barrier = threading.Barrier(len(posts))
    statuses: list[int] = []

    def post(browser: Browser, url: str, token: str) -> None:
        barrier.wait()
        statuses.append(browser.post(url, {"csrf_token": token}).status)

    threads = [threading.Thread(target=post, args=args) for args in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_a_session_made_on_one_instance_works_on_the_other(
    pair: tuple[Instance, Instance], postgres_database: str
) -> None:
    a, b = pair
    book = make_book(postgres_database, payments=0)
    browser = Browser(own_address())
    assert browser.get(b.base + "/admin/customers/").status == 302  # not signed in yet
    assert browser.sign_in(a.base, book.approver_email, PASSWORD).status == 302
    page = browser.get(b.base + "/admin/customers/")
    assert page.status == 200
    assert "Customers" in page.text
    # A form token made on B is accepted by A (same session, same key).
    token = browser.get(b.base + "/admin/approvals/").csrf_token()
    assert browser.post(a.base + "/logout", {"csrf_token": token}).status == 302
    assert browser.get(b.base + "/admin/customers/").status == 302  # signed out on both


def test_sign_in_attempts_are_counted_across_both_instances(
    pair: tuple[Instance, Instance],
) -> None:
    a, b = pair
    browser = Browser(own_address())
    token = browser.get(a.base + "/login").csrf_token()
    statuses = []
    for attempt in range(LOGIN_LIMIT + 2):
        target = (a, b)[attempt % 2]
        form = {"csrf_token": token, "email": "nobody@example.test", "password": "wrong"}
        statuses.append(browser.post(target.base + "/login", form).status)
    # Per instance that would be 4 attempts each, all under the limit of 6.
    assert statuses == [422] * LOGIN_LIMIT + [429, 429]
    # Another client address is not affected.
    other = Browser(own_address())
    other_token = other.get(b.base + "/login").csrf_token()
    form = {"csrf_token": other_token, "email": "nobody@example.test", "password": "wrong"}
    assert other.post(b.base + "/login", form).status == 422


def test_concurrent_approvals_through_both_instances_execute_once(
    pair: tuple[Instance, Instance], postgres_database: str
) -> None:
    a, b = pair
    book = make_book(postgres_database, payments=4)
    browsers = []
    for instance in (a, b):
        browser = Browser(own_address())
        assert browser.sign_in(instance.base, book.approver_email, PASSWORD).status == 302
        browsers.append((browser, instance, browser.get(instance.base + "/admin/approvals/")))
    for payment_id in book.payment_ids:
        statuses = race(
            [
                (
                    browser,
                    f"{instance.base}/admin/approvals/{payment_id}/approve",
                    page.csrf_token(),
                )
                for browser, instance, page in browsers
            ]
        )
        assert statuses == [302, 302]  # one executed it, the other was told it was decided
        result = outcome(postgres_database, payment_id)
        assert result.status == PAYMENT_EXECUTED
        assert result.transaction_id is not None
        assert result.postings == 1
        assert result.ledger_problems == []
