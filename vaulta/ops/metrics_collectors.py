"""What ``/metrics`` reads when it is scraped: the database pool, the task queue, webhook
deliveries and payments (vaulta/ops/metrics.py registers ``AppCollector`` per scrape).

Payments and deliveries are grouped counts of the rows themselves, not counters kept by
the process that changed them: payments change in web workers, deliveries in Huey workers
on other machines, and a counter lives in one process (and restarts at zero with it). A
count of ``payments`` by status is one scan of the ``(status, created_at)`` index that every
instance answers alike. Each part that fails (database or queue down) is left out and
``vaulta_metrics_collector_up{collector=…}`` says 0, so the scrape itself still answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from vaulta.extensions import db
from vaulta.models import Payment, WebhookDelivery
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.models.webhook import DELIVERY_STATUSES

log = logging.getLogger(__name__)


class AppCollector(Collector):
    """Figures read at scrape time from the app's database pool, database and queue."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "vaulta_metrics_collector_up",
            "1 when the figures of this collector could be read at this scrape.",
            labels=["collector"],
        )
        parts: dict[str, Callable[[], list[Metric]]] = {
            "queue": self._queue,
            "webhooks": self._webhooks,
            "payments": self._payments,
            "db_pool": self._pool,  # last: the scrape's own connection counts as in use
        }
        for name, part in parts.items():
            try:
                metrics = part()
            except Exception as err:  # a figure missing must not take the scrape down
                log.warning("metrics: %s unavailable: %s", name, type(err).__name__)
                db.session.rollback()
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up

    def _pool(self) -> list[Metric]:
        """SQLAlchemy's pool of this worker process (each worker has its own)."""
        pool: Any = db.engine.pool
        figures = {
            "size": ("vaulta_db_pool_size", "Connections the pool keeps (pool_size)."),
            "checkedout": ("vaulta_db_pool_checked_out", "Connections in use right now."),
            "overflow": ("vaulta_db_pool_overflow", "Connections opened beyond pool_size."),
            "checkedin": ("vaulta_db_pool_checked_in", "Idle connections in the pool."),
        }
        return [
            GaugeMetricFamily(name, help_text, value=float(getattr(pool, method)()))
            for method, (name, help_text) in figures.items()
            if callable(getattr(pool, method, None))
        ]

    def _queue(self) -> list[Metric]:
        """What /healthz reports about the task queue (vaulta/ops/queue.py)."""
        from vaulta.ops.queue import health

        report = health(self.app)
        metrics: list[Metric] = [
            GaugeMetricFamily(
                "vaulta_queue_reachable",
                "1 when the task queue (Huey storage) answers.",
                value=1.0 if report.get("reachable") else 0.0,
            )
        ]
        if report.get("pending_tasks") is not None:
            metrics.append(
                GaugeMetricFamily(
                    "vaulta_queue_pending_tasks",
                    "Tasks waiting in the task queue.",
                    value=float(report["pending_tasks"]),
                )
            )
        age = report.get("oldest_pending_age_seconds")
        metrics.append(
            GaugeMetricFamily(
                "vaulta_queue_oldest_pending_age_seconds",
                "Age of the oldest work not yet done (undispatched event or overdue "
                "delivery); 0 when nothing waits.",
                value=float(age or 0.0),
            )
        )
        return metrics

    def _webhooks(self) -> list[Metric]:
        family = GaugeMetricFamily(
            "vaulta_webhook_deliveries",
            "Webhook deliveries by outcome (pending, delivered, failed).",
            labels=["outcome"],
        )
        for status, count in _grouped(WebhookDelivery.status, DELIVERY_STATUSES):
            family.add_metric([status], count)
        return [family]

    def _payments(self) -> list[Metric]:
        family = GaugeMetricFamily("vaulta_payments", "Payments by status.", labels=["status"])
        for status, count in _grouped(Payment.status, PAYMENT_STATUSES):
            family.add_metric([status], count)
        return [family]


def _grouped(
    column: sa.orm.InstrumentedAttribute[str], known: tuple[str, ...]
) -> list[tuple[str, float]]:
    """Rows per value of ``column``: every known value (0 when none), then any other."""
    rows = db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all()
    counts = dict.fromkeys(known, 0.0) | {str(value): float(n) for value, n in rows}
    return sorted(counts.items())
