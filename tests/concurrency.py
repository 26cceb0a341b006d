"""Running service calls in threads that start together, for concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask

from tests.databases import truncate_all
from vaulta import create_app
from vaulta.extensions import db

JOIN_TIMEOUT = 120  # seconds; a thread still alive then is stuck (a deadlock, not slowness)


def threaded_app(postgres_url: str, tmp_path: Path, threads: int) -> Iterator[Flask]:
    """An app on PostgreSQL whose pool serves ``threads`` sessions at once (for a fixture);
    the database is emptied afterwards."""
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": postgres_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": threads + 2, "max_overflow": 2},
            "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        },
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    truncate_all(postgres_url)


def in_threads(
    app: Flask,
    count: int,
    work: Callable[[int], Any],
    while_running: Callable[[Callable[[], int]], None] | None = None,
) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads started together; each result or raised error.

    ``while_running(finished)`` is called in this thread once they have all been started;
    ``finished()`` tells how many threads are done."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait()
                results[i] = work(i)
            except Exception as err:  # the outcome is what the test asserts on
                results[i] = err
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    if while_running is not None:
        while_running(lambda: sum(not thread.is_alive() for thread in threads))
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread is stuck"
    return results
