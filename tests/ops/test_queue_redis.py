"""Two consumer processes on one Redis queue (as ``flask vaulta worker`` on two machines):
every job runs exactly once. Bounded: 40 jobs, at most 30 s, then both are stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.ops.redis_consumer import queue, register

REDIS_URL = os.environ.get("VAULTA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
QUEUE_URL = REDIS_URL.rsplit("/", 1)[0] + "/11"  # a database of its own
JOBS = 40


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(QUEUE_URL, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as err:
        message = f"this test needs Redis at {QUEUE_URL} ({err})"
        if os.environ.get("VAULTA_REQUIRE_POSTGRES") == "1":  # CI starts Redis too
            pytest.fail(message)
        pytest.skip(message)
    yield connection
    connection.flushdb()
    connection.close()


def test_two_consumers_run_each_job_once(client: redis.Redis) -> None:
    name = f"vaulta-test-{uuid.uuid4().hex[:8]}"
    runs = f"{name}:runs"
    run = "from tests.ops.redis_consumer import main; main()"
    command = [sys.executable, "-c", run, QUEUE_URL, name]
    workers = [subprocess.Popen([*command, label]) for label in ("a", "b")]
    try:
        enqueue = register(queue(QUEUE_URL, name), QUEUE_URL, name, "producer")
        for n in range(JOBS):
            enqueue(n)  # type: ignore[operator]
        deadline = time.monotonic() + 30
        while client.llen(runs) < JOBS and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # a job run twice would show up by now
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGINT)  # graceful stop, as systemd's KillSignal
        for worker in workers:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:  # never leave a consumer behind
                worker.kill()
                worker.wait()
                raise
    done = {int(k): int(v) for k, v in client.hgetall(f"{name}:counts").items()}
    assert done == dict.fromkeys(range(JOBS), 1)  # each job once, none lost
    assert client.llen(runs) == JOBS
    assert set(client.lrange(runs, 0, -1)) <= {b"a", b"b"}  # run by the consumers only
