"""Running service calls in threads that start together, for concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from flask import Flask

from vaulta.extensions import db

JOIN_TIMEOUT = 120  # seconds; a thread still alive then is stuck (a deadlock, not slowness)


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
