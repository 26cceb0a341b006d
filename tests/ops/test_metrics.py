"""/metrics: off unless configured, the bearer token and the allowed networks, the text
format (parsed with prometheus_client's parser), the figures read at scrape time, and the
request histograms of several processes summed in multiprocess mode (as under gunicorn)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.services.payments.factories import make_payment
from tests.webclient import WebClient
from vaulta import PROJECT_ROOT
from vaulta.models import Account, User

TOKEN = "metrics-token-for-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _samples(text: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= s.labels.items()]
    assert found, f"no {name} {labels}"
    return sum(found)


def test_off_unless_a_token_or_a_network_is_set(app: Flask, client: WebClient) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=AUTH).status_code == 404


def test_the_token_is_required(app: Flask, client: WebClient) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": TOKEN}).status_code == 401
    answered = client.get("/metrics", headers=AUTH)
    assert answered.status_code == 200
    assert answered.mimetype == "text/plain"
    assert answered.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in answered.headers  # no session for a scrape
    assert client.post("/metrics", headers=AUTH).status_code in (400, 405)  # GET only


def test_the_allowed_networks(app: Flask, client: WebClient) -> None:
    app.config["METRICS_ALLOWED_NETWORKS"] = "10.0.0.0/8, 192.0.2.7"
    assert client.get("/metrics").status_code == 404  # the test client is 127.0.0.1
    app.config["METRICS_ALLOWED_NETWORKS"] = "10.0.0.0/8,127.0.0.0/8"
    assert client.get("/metrics").status_code == 200
    app.config["METRICS_TOKEN"] = TOKEN  # both set: both needed
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=AUTH).status_code == 200


def test_latency_histogram_and_scrape_time_figures(
    app: Flask, client: WebClient, customer_user: User, source: Account, target: Account
) -> None:
    app.config["METRICS_TOKEN"] = TOKEN
    make_payment(customer_user, source, to=target)
    before = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))
    healthz = {"endpoint": "health.healthz", "method": "GET", "status": "2xx"}
    counted = [
        s.value
        for s in before
        if s.name == "vaulta_http_request_duration_seconds_count"
        and healthz.items() <= s.labels.items()
    ]
    assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    samples = _samples(client.get("/metrics", headers=AUTH).get_data(as_text=True))

    count = "vaulta_http_request_duration_seconds_count"
    assert _value(samples, count, **healthz) == sum(counted) + 1
    assert _value(samples, count, endpoint="none", status="4xx") >= 1
    buckets = {
        s.labels["le"]
        for s in samples
        if s.name == "vaulta_http_request_duration_seconds_bucket"
        and healthz.items() <= s.labels.items()
    }
    assert "+Inf" in buckets
    assert "0.1" in buckets
    assert _value(samples, "vaulta_payments", status="pending_approval") == 1
    assert _value(samples, "vaulta_payments", status="executed") == 0
    assert _value(samples, "vaulta_webhook_deliveries", outcome="failed") == 0
    assert _value(samples, "vaulta_queue_reachable") == 1
    assert _value(samples, "vaulta_queue_pending_tasks") == 0
    assert _value(samples, "vaulta_queue_oldest_pending_age_seconds") >= 0
    assert _value(samples, "vaulta_db_pool_checked_out") >= 1  # the scrape's own connection
    for collector in ("db_pool", "queue", "webhooks", "payments"):
        assert _value(samples, "vaulta_metrics_collector_up", collector=collector) == 1


CHILD = textwrap.dedent(
    """
    import sys
    from vaulta import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": sys.argv[1],
                                 "METRICS_TOKEN": sys.argv[2]})
    client = app.test_client()
    if sys.argv[3] == "request":
        assert client.get("/healthz").status_code == 200
    else:
        auth = {"Authorization": "Bearer " + sys.argv[2]}
        sys.stdout.write(client.get("/metrics", headers=auth).get_data(as_text=True))
    """
)


def test_multiprocess_mode_sums_every_process(sqlite_app: Flask, tmp_path: Path) -> None:
    """One process answers a request and exits; another, scraped, reports it (gunicorn's
    workers share PROMETHEUS_MULTIPROC_DIR)."""
    directory = tmp_path / "prometheus"
    directory.mkdir()
    env = os.environ | {"PROMETHEUS_MULTIPROC_DIR": str(directory)}
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]

    def child(mode: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, url, TOKEN, mode],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    child("request")
    child("request")
    samples = _samples(child("scrape"))
    healthz = {"endpoint": "health.healthz", "method": "GET", "status": "2xx"}
    assert _value(samples, "vaulta_http_request_duration_seconds_count", **healthz) == 2
    assert any(directory.iterdir())


@pytest.mark.parametrize("given", ["short", ""])
def test_production_refuses_a_short_token(given: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from vaulta.config import ConfigError, ProductionConfig

    config = {
        "SECRET_KEY": "x9" + "k3Jq8vLm2Rt5Yw7Zp0Nb4Hc6Fd1Gs" * 2,
        "METRICS_TOKEN": given,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
    }
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/vaulta")
    if given:
        with pytest.raises(ConfigError, match="METRICS_TOKEN"):
            ProductionConfig.validate(config)
    else:
        ProductionConfig.validate(config)  # unset: /metrics is simply off


def test_a_part_that_cannot_be_read_is_reported_not_fatal(
    app: Flask, client: WebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vaulta.ops import queue

    def unreachable(_app: Flask) -> dict[str, object]:
        raise ConnectionError("redis down")

    monkeypatch.setattr(queue, "health", unreachable)
    app.config["METRICS_TOKEN"] = TOKEN
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    samples = _samples(response.get_data(as_text=True))
    assert _value(samples, "vaulta_metrics_collector_up", collector="queue") == 0
    assert _value(samples, "vaulta_metrics_collector_up", collector="payments") == 1
    assert not [s for s in samples if s.name.startswith("vaulta_queue_")]


def test_a_malformed_network_is_refused_at_start(database_url: str) -> None:
    from vaulta import create_app
    from vaulta.config import ConfigError

    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        create_app(
            "testing",
            {"SQLALCHEMY_DATABASE_URI": database_url, "METRICS_ALLOWED_NETWORKS": "10.0.0/99"},
        )


def test_a_missing_multiprocess_directory_is_refused_at_start(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vaulta import create_app
    from vaulta.config import ConfigError

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="PROMETHEUS_MULTIPROC_DIR"):
        create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
