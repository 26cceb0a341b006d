"""The task queue: Huey, on Redis in production (``TASK_QUEUE_URL=redis://…``), else SQLite
in ``<instance>/tasks.db`` (``make run`` needs nothing else). docs/deploy.md "Background jobs".

``init_app`` builds one Huey per app and registers the jobs (vaulta/ops/jobs.py) on it; the
web process enqueues, ``flask vaulta worker`` consumes (any number of workers on any number
of machines share one Redis). In tests (``TASK_QUEUE_IMMEDIATE``) tasks run at once, in
the caller, from memory: Huey's immediate mode.

After a commit that wrote business events (vaulta/services/events), a delivery run is
scheduled a second later, so webhooks leave within seconds; the minutely periodic run
finds whatever a nudge missed (the queue was down, the worker stopped): nothing is lost,
events wait in the outbox.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy.orm import Session

from vaulta.services.events.outbox import PENDING

log = logging.getLogger(__name__)
EXTENSION = "vaulta_queue"
NUDGE_DELAY_SECONDS = 1
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def build(config: dict[str, Any], instance_path: str, *, name: str = "vaulta") -> Huey:
    """RedisHuey for a redis:// TASK_QUEUE_URL, else SqliteHuey on a file. ``name`` names
    the queue (its Redis keys): consumers of one name share its jobs."""
    immediate = bool(config.get("TASK_QUEUE_IMMEDIATE"))
    url = config.get("TASK_QUEUE_URL") or ""
    if url.startswith(REDIS_SCHEMES):
        return RedisHuey(name, url=url, immediate=immediate, utc=True)
    if url:
        raise ValueError(f"TASK_QUEUE_URL must be a redis:// URL (or unset), not {url!r}")
    path = config.get("TASK_QUEUE_SQLITE_PATH") or os.path.join(instance_path, "tasks.db")
    return SqliteHuey(name, filename=path, immediate=immediate, utc=True)


def init_app(app: Flask) -> None:
    from vaulta.ops import jobs

    if not app.config.get("TASK_QUEUE_URL"):
        os.makedirs(app.instance_path, exist_ok=True)
    huey = build(app.config, app.instance_path)
    app.extensions[EXTENSION] = jobs.register(huey, app)
    if not sa.event.contains(Session, "after_commit", _nudge):
        sa.event.listen(Session, "after_commit", _nudge)
        sa.event.listen(Session, "after_rollback", _forget)


def queue(app: Flask | None = None) -> Huey:
    return (app or current_app).extensions[EXTENSION].huey


def deliver_soon() -> None:
    """Enqueue a delivery run now (a view's "send"; in tests it runs at once)."""
    current_app.extensions[EXTENSION].deliver_webhooks()


def prepare_export(job_id: int) -> None:
    """Enqueue the export job's task (in tests it runs at once). When the queue cannot take
    it, the job is marked failed (the page says so) rather than left waiting."""
    from vaulta.services.exports import export_jobs

    try:
        current_app.extensions[EXTENSION].run_export(job_id)
    except Exception:  # Redis down, file unwritable: the job page says to try again
        log.warning("could not enqueue export %s", job_id, exc_info=True)
        export_jobs.fail(job_id, "The task queue is unavailable: ask again later.")


def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def _nudge(session: Session) -> None:
    """Schedule a delivery run after a commit that wrote events (never raises)."""
    if not session.info.pop(PENDING, False) or not has_app_context():
        return
    registered = current_app.extensions.get(EXTENSION)
    if registered is None:
        return
    try:
        registered.deliver_webhooks.schedule(delay=NUDGE_DELAY_SECONDS)
    except Exception:  # the queue is down: the periodic run will find the events
        log.warning("could not nudge the task queue; the periodic run will deliver", exc_info=True)


def health(app: Flask) -> dict[str, Any]:
    """The queue for /healthz: reachable, tasks waiting, and the age in seconds of the oldest
    work not yet done (undispatched events and overdue deliveries in the database: they
    grow while no worker runs)."""
    from vaulta.services.webhooks.backlog import oldest_pending_age

    report: dict[str, Any] = {"backend": "redis" if app.config.get("TASK_QUEUE_URL") else "sqlite"}
    try:
        report["pending_tasks"] = queue(app).pending_count()
        report["reachable"] = True
    except Exception as err:  # Redis down, file unreadable
        log.warning("healthz: task queue unreachable: %s", type(err).__name__)
        report["reachable"] = False
    age = oldest_pending_age()
    report["oldest_pending_age_seconds"] = None if age is None else round(age, 1)
    return report
