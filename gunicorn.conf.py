"""gunicorn settings for VAULTA, all from the environment (``make serve`` uses this file).

GUNICORN_BIND     address to listen on (default 127.0.0.1:$PORT, PORT default 8000);
                  several comma-separated addresses are allowed
WEB_CONCURRENCY   worker processes (default 2 x CPU cores + 1, at most 12); must be 1 when
                  RATELIMIT_SINGLE_PROCESS=1 keeps rate-limit counts in memory
GUNICORN_THREADS  threads per worker (default 1)
GUNICORN_TIMEOUT  seconds a silent worker lives before it is killed and replaced (default 30)
GUNICORN_GRACEFUL_TIMEOUT  seconds workers get to finish requests on restart/stop (default 30)
GUNICORN_KEEPALIVE  seconds to hold an idle keep-alive connection (default 5)
FORWARDED_ALLOW_IPS  proxies whose X-Forwarded-Proto/For gunicorn trusts (default 127.0.0.1);
                  VAULTA's own ProxyFix is set with PROXY_FIX_X_FOR etc.
GUNICORN_ACCESS_LOG  where the access log goes (default "-": standard output)
GUNICORN_LOG_LEVEL   error log level (default info)
PROMETHEUS_MULTIPROC_DIR  an empty directory where the workers keep their /metrics samples
                  (docs/deploy.md "Metrics"); a dead worker's are marked here (child_exit)
"""

from __future__ import annotations

import gc
import multiprocessing
import os

MAX_DEFAULT_WORKERS = 12
# The collector's thresholds in workers (CPython's default is 700, 10, 10): a page allocates
# thousands of short-lived objects that reference counting frees anyway, and at 700 each
# request ran a dozen young-generation collections for nothing to collect.
GC_THRESHOLDS = (20_000, 20, 20)
TRUE_VALUES = ("1", "true", "yes", "on")  # as vaulta/config.py reads yes/no settings


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _default_workers() -> int:
    return min(2 * multiprocessing.cpu_count() + 1, MAX_DEFAULT_WORKERS)


bind = [
    address.strip()
    for address in os.environ.get(
        "GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}"
    ).split(",")
    if address.strip()
]
workers = _int("WEB_CONCURRENCY", _default_workers())
# RATELIMIT_SINGLE_PROCESS=1 lets production keep rate-limit counts in memory because one
# single worker serves (vaulta/config.py): hold gunicorn to that promise.
_memory_limits = os.environ.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://")
_single = os.environ.get("RATELIMIT_SINGLE_PROCESS", "").strip().lower() in TRUE_VALUES
if _memory_limits and _single and workers != 1:
    raise SystemExit(
        f"RATELIMIT_SINGLE_PROCESS=1 says one worker process serves, but {workers} would: "
        "each would count rate limits on its own. Set WEB_CONCURRENCY=1, or set "
        "RATELIMIT_STORAGE_URI to a Redis URL and drop RATELIMIT_SINGLE_PROCESS."
    )
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
proc_name = "vaulta"
# Workers import the app themselves (no preload): each opens its own database pool, and a
# worker that cannot start (e.g. the schema is not at the newest revision) stops gunicorn.
preload_app = False


def post_worker_init(worker: object) -> None:
    """Once the worker has loaded the app: move everything alive now (modules, the app,
    compiled templates and statements) out of the garbage collector's reach, so that its
    full collections during requests scan only what requests create."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def child_exit(server: object, worker: object) -> None:
    """A worker ended: its live gauges leave /metrics (prometheus_client multiprocess mode).
    Its counters and histograms stay summed in, as Prometheus expects of counters."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
