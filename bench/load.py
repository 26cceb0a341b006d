"""Drive ``wrk`` against one URL and read requests/s and latency percentiles."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

THREADS, CONNECTIONS, DURATION = 2, 16, 10  # wrk -t2 -c16, seconds per URL
ROUNDS = 2  # the duration is split into rounds alternating between the app and its ceiling
WARM_UP = 1  # seconds of unmeasured load first (imports, connection pools, caches)
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad_responses: int  # non-2xx/3xx responses plus socket errors

    def line(self) -> str:
        bad = f"  ({self.bad_responses} bad responses!)" if self.bad_responses else ""
        return (
            f"{self.requests_per_second:8.1f} req/s  p50 {self.p50_ms:7.1f} ms  "
            f"p99 {self.p99_ms:7.1f} ms{bad}"
        )


def ensure_wrk() -> str:
    """The path of ``wrk``; installs the Debian package when it is missing (as root)."""
    path = shutil.which("wrk")
    if path:
        return path
    print("wrk is missing: trying `apt-get install -y wrk` …", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: run `sudo apt-get install -y wrk` and retry.")
    return path


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unreadable wrk duration {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def run_wrk(url: str, cookie: str = "", seconds: float = DURATION) -> LoadResult:
    args = [
        ensure_wrk(),
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
    ]
    args += ["--timeout", "10s"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"unreadable wrk output:\n{output}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    bad_count = int(bad.group(1)) if bad else 0
    if errors:
        bad_count += sum(int(n) for n in errors.groups())
    return LoadResult(
        float(rps.group(1)),
        _duration_ms(percentiles["50"]),
        _duration_ms(percentiles["99"]),
        int(total.group(1)),
        bad_count,
    )


def combine(runs: list[LoadResult]) -> LoadResult:
    """Rounds of equal length: mean requests/s and p50, the worst p99, all bad responses."""
    return LoadResult(
        sum(r.requests_per_second for r in runs) / len(runs),
        sum(r.p50_ms for r in runs) / len(runs),
        max(r.p99_ms for r in runs),
        sum(r.requests for r in runs),
        sum(r.bad_responses for r in runs),
    )


def compare(
    app_url: str, cookie: str, ceiling_url: str, seconds: float = DURATION
) -> tuple[LoadResult, LoadResult]:
    """The app page and its ceiling, warmed up, then measured in alternating rounds so that
    other load on the machine falls on both alike."""
    run_wrk(app_url, cookie, WARM_UP)
    run_wrk(ceiling_url, "", WARM_UP)
    app_runs, ceiling_runs = [], []
    for _ in range(ROUNDS):
        app_runs.append(run_wrk(app_url, cookie, seconds / ROUNDS))
        ceiling_runs.append(run_wrk(ceiling_url, "", seconds / ROUNDS))
    return combine(app_runs), combine(ceiling_runs)
