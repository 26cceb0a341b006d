"""Real gunicorn instances for the scale-out and fault tests, and a tiny HTTP browser.

``running(...)`` starts ``gunicorn -c gunicorn.conf.py wsgi:app`` on a free loopback port
with the testing configuration (plain-http cookies: production's Secure cookies would not
travel over http on loopback) and the given environment, waits for /healthz and always
stops it. ``Browser`` keeps cookies by hand for the same reason and can send from its own
loopback address, so rate-limit counts (kept per client address) belong to one test run.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from vaulta import PROJECT_ROOT

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        """The master's children (gunicorn workers), read from /proc."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids


@contextmanager
def running(
    database_url: str, log_dir: Path, *, workers: int = 2, **env: str
) -> Iterator[Instance]:
    port = free_port()
    environment = dict(os.environ)
    environment.update(
        VAULTA_CONFIG="testing",
        DATABASE_URL=database_url,
        WEB_CONCURRENCY=str(workers),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_LOG_LEVEL="warning",
        MAIL_OUTBOX_DIR=str(log_dir / "outbox"),
        PYTHONPATH=PROJECT_ROOT,
    )
    environment.update(env)
    log = log_dir / f"gunicorn-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    instance = Instance(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_healthy(instance)
        yield instance
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_healthy(instance: Instance, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{instance.log.read_text()}")
        try:
            if Browser().get(instance.base + "/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"gunicorn not healthy in {timeout} s:\n{instance.log.read_text()}")


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def csrf_token(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, f"no CSRF token in the page (status {self.status})"
        return match.group(1)


@dataclass
class Browser:
    """Cookies by hand, no redirects followed, optionally from its own loopback address."""

    source: str = "127.0.0.1"
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, url: str, form: dict[str, str] | None = None) -> Reply:
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=60, source_address=(self.source, 0)
        )
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(
                method, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers
            )
            response = conn.getresponse()
            reply = Reply(response.status, response.headers, response.read().decode())
        finally:
            conn.close()
        for value in reply.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return reply

    def get(self, url: str) -> Reply:
        return self.request("GET", url)

    def post(self, url: str, form: dict[str, str]) -> Reply:
        return self.request("POST", url, form)

    def sign_in(self, base: str, email: str, password: str) -> Reply:
        """Password, then (admins) the second factor with the code from /dev/outbox."""
        token = self.get(base + "/login").csrf_token()
        reply = self.post(
            base + "/login", {"csrf_token": token, "email": email, "password": password}
        )
        if reply.status != 302 or reply.headers["Location"] != SECOND_FACTOR_PATH:
            return reply
        token = self.get(base + SECOND_FACTOR_PATH).csrf_token()
        code = mailed_sign_in_code(self.get(base + "/dev/outbox").text, email)
        return self.post(base + SECOND_FACTOR_PATH, {"csrf_token": token, "code": code})


SECOND_FACTOR_PATH = "/login/second-factor"
MAIL_RE = re.compile(r'<article class="mail">\s*<header>(.*?)</header>\s*<pre>(.*?)</pre>', re.S)


def mailed_sign_in_code(outbox_page: str, email: str) -> str:
    """The code of the newest sign-in mail to ``email`` on the dev outbox page."""
    for header, body in MAIL_RE.findall(outbox_page):
        if "sign-in code" in header and f"to {email} " in header:
            return re.search(r"\b(\d{6})\b", body).group(1)  # type: ignore[union-attr]
    raise AssertionError(f"no sign-in code mailed to {email}")
