"""gunicorn processes for the benchmark, and signing in to get a session cookie."""

from __future__ import annotations

import http.client
import json
import re
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    app: str, env: dict[str, str], *, workers: int = 2, probe: str = "/healthz"
) -> Iterator[str]:
    """Run ``gunicorn -c gunicorn.conf.py <app>``; yield its base URL; stop it afterwards."""
    port = free_port()
    env = dict(env)
    env.update(
        WEB_CONCURRENCY=str(workers),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESS_LOG="/dev/null",
        GUNICORN_LOG_LEVEL="warning",
    )
    log = (ROOT / "instance").joinpath(f"bench-gunicorn-{port}.log")
    log.parent.mkdir(exist_ok=True)
    with log.open("w") as out:
        process = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", app],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + probe, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.unlink(missing_ok=True)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{log.read_text()}")
        try:
            status, _headers, _body = request("GET", url)
        except OSError:
            status = 0
        if status == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within 60 s:\n{log.read_text()}")


def request(
    method: str, url: str, *, body: dict[str, str] | None = None, cookie: str = ""
) -> tuple[int, http.client.HTTPMessage, str]:
    """One HTTP request without redirects or a cookie jar (production cookies are Secure,
    which a jar would not send over plain http on loopback)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    data = None
    if body is not None:
        data = urllib.parse.urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, path or "/", body=data, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _session_cookie(headers: http.client.HTTPMessage) -> str:
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return ""


def sign_in(base: str, email: str, password: str, outbox: Path) -> str:
    """Sign in through the login form and the mailed second-factor code (every admin has
    one; the console mail backend writes it to ``outbox``); return the ``Cookie`` value."""
    cookie = ""
    status, headers, page = request("GET", base + "/login")
    cookie = _session_cookie(headers) or cookie
    form = {"csrf_token": _csrf(page, "/login"), "email": email, "password": password}
    status, headers, _page = request("POST", base + "/login", body=form, cookie=cookie)
    cookie = _session_cookie(headers) or cookie
    if status != 302:
        raise RuntimeError(f"sign-in as {email} failed: POST /login answered {status}")
    if headers.get("Location") == SECOND_FACTOR:
        status, headers, page = request("GET", base + SECOND_FACTOR, cookie=cookie)
        cookie = _session_cookie(headers) or cookie
        form = {"csrf_token": _csrf(page, SECOND_FACTOR), "code": _mailed_code(outbox, email)}
        status, headers, _page = request("POST", base + SECOND_FACTOR, body=form, cookie=cookie)
        cookie = _session_cookie(headers) or cookie
        if status != 302:
            raise RuntimeError(f"second factor of {email} refused: answered {status}")
    return browse(base + (headers.get("Location") or "/"), cookie)


def browse(url: str, cookie: str) -> str:
    """GET ``url`` as a browser would and return the session cookie it holds afterwards.

    wrk sends one fixed ``Cookie`` header and never stores what the app sets; a browser
    does. Taking the updated cookie after sign-in (its welcome message shown and gone)
    and again before each measured page (its last-seen stamp fresh) keeps the measured
    requests what a browser's would be: no flash message re-shown and no cookie re-signed
    on every request.
    """
    for _ in range(3):  # follow a redirect or two, keeping the cookie up to date
        status, headers, _page = request("GET", url, cookie=cookie)
        cookie = _session_cookie(headers) or cookie
        if status == 200:
            return cookie
        location = headers.get("Location")
        if status not in (301, 302, 303) or not location:
            break
        url = urllib.parse.urljoin(url, location)
    raise RuntimeError(f"GET {url} answered {status}, not 200")


SECOND_FACTOR = "/login/second-factor"


def _csrf(page: str, path: str) -> str:
    match = CSRF_RE.search(page)
    if match is None:
        raise RuntimeError(f"GET {path} has no CSRF token")
    return match.group(1)


def _mailed_code(outbox: Path, email: str) -> str:
    """The code in the newest mail to ``email`` in the console backend's outbox."""
    for path in sorted(outbox.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        message = json.loads(path.read_text())
        if message.get("to") == email:
            match = re.search(r"\b(\d{6})\b", message.get("body", ""))
            if match:
                return match.group(1)
    raise RuntimeError(f"no sign-in code mailed to {email} in {outbox}")
