"""gunicorn.conf.py reads its settings from the environment."""

from __future__ import annotations

import multiprocessing
import runpy
from pathlib import Path

import pytest

from vaulta import PROJECT_ROOT

CONF = str(Path(PROJECT_ROOT) / "gunicorn.conf.py")
VARIABLES = (
    "GUNICORN_BIND",
    "PORT",
    "WEB_CONCURRENCY",
    "FORWARDED_ALLOW_IPS",
    "GUNICORN_TIMEOUT",
    "RATELIMIT_SINGLE_PROCESS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    conf = runpy.run_path(CONF)
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["workers"] == min(2 * multiprocessing.cpu_count() + 1, 12)
    assert conf["accesslog"] == "-"
    assert conf["graceful_timeout"] == 30
    assert conf["timeout"] == 30
    assert conf["forwarded_allow_ips"] == "127.0.0.1"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000, unix:/run/vaulta.sock")
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "60")
    conf = runpy.run_path(CONF)
    assert conf["bind"] == ["0.0.0.0:9000", "unix:/run/vaulta.sock"]
    assert conf["workers"] == 3
    assert conf["forwarded_allow_ips"] == "10.0.0.5"
    assert conf["timeout"] == 60


def test_port_sets_the_default_bind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "8123")
    assert runpy.run_path(CONF)["bind"] == ["127.0.0.1:8123"]


def test_workers_freeze_what_they_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """post_worker_init moves the loaded app out of the collector's reach (gc.freeze) and
    raises the young generation's threshold."""
    import gc

    calls: list[object] = []
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *t: calls.append(t))
    conf = runpy.run_path(CONF)
    conf["post_worker_init"](object())
    assert calls == ["collect", "freeze", conf["GC_THRESHOLDS"]]
    assert conf["GC_THRESHOLDS"][0] > gc.get_threshold()[0]


def test_a_declared_single_process_must_run_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """RATELIMIT_SINGLE_PROCESS=1 lets production count rate limits in memory; gunicorn
    refuses to start more workers than the one it promises (vaulta/config.py)."""
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.setenv("RATELIMIT_SINGLE_PROCESS", "1")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(SystemExit, match="Set WEB_CONCURRENCY=1"):
        runpy.run_path(CONF)
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert runpy.run_path(CONF)["workers"] == 1
    monkeypatch.setenv("WEB_CONCURRENCY", "4")  # shared counts: any number of workers
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    assert runpy.run_path(CONF)["workers"] == 4


def test_a_dead_worker_is_marked_for_metrics(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """child_exit removes the dead worker's live-gauge files (prometheus_client multiprocess
    mode); without PROMETHEUS_MULTIPROC_DIR it does nothing."""
    from types import SimpleNamespace

    conf = runpy.run_path(CONF)
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    conf["child_exit"](None, SimpleNamespace(pid=4242))
    live = tmp_path / "gauge_livesum_4242.db"
    kept = tmp_path / "histogram_4242.db"
    live.write_bytes(b"")
    kept.write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf["child_exit"](None, SimpleNamespace(pid=4242))
    assert not live.exists()
    assert kept.exists()  # a histogram's samples stay summed in
    assert "%({x-request-id}o)s" in conf["access_log_format"]
