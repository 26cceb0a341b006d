"""Profile one page with pyinstrument: ``python -m bench.profile URL_PATH [REQUESTS]``.

Uses the production app against DATABASE_URL (seed it first, e.g. with ``flask vaulta
seed-demo --customers 100000 --transactions 1000000``), signs in as the demo admin through
the login form and the mailed second-factor code with Flask's test client, then times
REQUESTS (default 200) GETs of the page, runs them again under the profiler and prints
pyinstrument's text report. BENCH_PROFILE=0 only times them.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from flask.testing import FlaskClient
from pyinstrument import Profiler

from bench.servers import SECOND_FACTOR, _mailed_code
from vaulta import create_app
from vaulta.ops.seeding.demo import APPROVER_EMAIL, DEMO_PASSWORD

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _post_form(client: FlaskClient, path: str, **fields: str) -> int:
    token = CSRF_RE.search(client.get(path).get_data(as_text=True))
    assert token is not None, f"no CSRF token on {path}"
    return client.post(path, data={"csrf_token": token.group(1), **fields}).status_code


def main() -> None:
    path = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    os.environ.setdefault("VAULTA_CONFIG", "production")
    os.environ.setdefault("MAIL_BACKEND", "console")
    os.environ.setdefault("RATELIMIT_SINGLE_PROCESS", "1")  # this one process serves
    app = create_app(overrides={"SESSION_COOKIE_SECURE": False})
    client = app.test_client()
    assert _post_form(client, "/login", email=APPROVER_EMAIL, password=DEMO_PASSWORD) == 302
    code = _mailed_code(Path(app.config["MAIL_OUTBOX_DIR"]), APPROVER_EMAIL)
    assert _post_form(client, SECOND_FACTOR, code=code) == 302
    assert client.get(path).status_code == 200
    times = []
    for _ in range(count):
        start = time.perf_counter()
        client.get(path).close()
        times.append(time.perf_counter() - start)
    times.sort()
    print(
        f"{path}: best {times[0] * 1000:.1f} ms, median {times[len(times) // 2] * 1000:.1f} ms "
        "per request (no profiler)"
    )
    if os.environ.get("BENCH_PROFILE") == "0":
        return
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(count):
        client.get(path).close()
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))


if __name__ == "__main__":
    main()
