"""A consumer process for tests/ops/test_queue_redis.py: ``main(QUEUE_URL, NAME, LABEL)``
consumes NAME's queue (built by ``vaulta.ops.queue.build``, as
``flask vaulta worker`` does) until SIGINT; each job counts itself in Redis."""

from __future__ import annotations

import sys
import tempfile

import redis
from huey import Huey

from vaulta.ops.queue import build


def queue(url: str, name: str) -> Huey:
    # A queue of its own (its Redis keys derive from the name): a consumer left over from
    # another run cannot take these jobs.
    return build({"TASK_QUEUE_URL": url}, tempfile.gettempdir(), name=name)


def register(huey: Huey, url: str, name: str, label: str) -> object:
    store = redis.Redis.from_url(url, socket_timeout=2)

    @huey.task(name="vaulta.test_job")
    def job(n: int) -> None:
        store.hincrby(f"{name}:counts", str(n), 1)
        store.rpush(f"{name}:runs", label)

    return job


def main() -> None:
    """Run from ``python -c`` so the job's module (its registry name) is this module."""
    url, name, label = sys.argv[1:4]
    huey = queue(url, name)
    register(huey, url, name, label)
    huey.create_consumer(workers=2, worker_type="thread", periodic=False).run()
