"""The background jobs, registered on the app's Huey (vaulta/ops/queue.py).

Periodic jobs replace cron: deliver webhooks (every minute, and a second after any commit
that wrote events; the same run makes the customers' payment notifications, then sends
them), send notifications (every minute), remind approvers of payments and change requests
waiting longer than APPROVAL_REMINDER_HOURS (every 15 minutes, once per payment or request),
expire payments, change requests and holds
(every 5 minutes: ``EXPIRY_PERIOD``, what verify-ledger lets a hold outlive its expiry by),
purge stored idempotency responses and expired FX quotes nothing references (hourly;
vaulta/services/ledger/fx/quote_purge.py), verify the ledger
(nightly at 02:30 UTC) and the audit log's hash chain (02:45 UTC; admins are mailed when
either finds a problem), issue monthly statements (daily at 01:15 UTC: a month's are kept
once its backdating window has closed, LEDGER_BACKDATE_DAYS after the month, later runs
catch up; vaulta/ops/statements.py) and purge expired export files
(hourly; vaulta/exports/), and run due standing orders (every 15 minutes: each due date once,
failed runs mailed; vaulta/services/standing_orders/running.py). Each runs in its own
application context; during maintenance mode a job skips its run (the next one catches up).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Flask, current_app
from huey import Huey, crontab

from vaulta import mail
from vaulta.exports import files as export_files
from vaulta.ops import statements
from vaulta.services import api_idempotency, notifications, standing_orders
from vaulta.services.audit.verification import verify_chain
from vaulta.services.changes import change_requests
from vaulta.services.ledger import holds
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.fx import quote_purge
from vaulta.services.maintenance import UnderMaintenance
from vaulta.services.payments import expiry
from vaulta.services.reports import statement_archive
from vaulta.services.webhooks import backlog, dispatch

log = logging.getLogger(__name__)
# Retries due sooner than this are scheduled as their own task; later ones wait for the
# minutely run.
SCHEDULE_RETRIES_WITHIN_SECONDS = 300


@dataclass(frozen=True)
class Jobs:
    """The app's Huey and its tasks (called to enqueue; ``.schedule(delay=…)`` to delay)."""

    huey: Huey
    deliver_webhooks: Any
    deliver_one: Any
    expire_payments: Any
    expire_change_requests: Any
    purge_idempotency_keys: Any
    nightly_verify_ledger: Any
    nightly_verify_audit: Any
    send_notifications: Any
    approval_reminders: Any
    monthly_statements: Any
    statements_batch: Any
    run_export: Any
    purge_exports: Any
    run_standing_orders: Any
    expire_holds: Any


def deliver_webhooks_now() -> int:
    """Fan the outbox out and attempt every due delivery; how many attempts were made."""
    dispatch.fan_out()
    outcomes = dispatch.deliver_due()
    while len(outcomes) == dispatch.BATCH:  # more were due than one batch
        outcomes += dispatch.deliver_due()
    return len(outcomes)


def remind_approvers_now() -> int:
    """Make the reminders now due (one per payment, ever), then send what is due."""
    notifications.make_reminders()
    return notifications.send_due()


def expire_payments_now() -> int:
    return expiry.expire_due()


def expire_holds_now() -> int:
    """Release (as expired) the holds past their expiry; payments' holds end with them."""
    return holds.expire_due()


def expire_change_requests_now() -> int:
    """Mark pending change requests past their expiry (CHANGE_REQUEST_TTL_HOURS) expired."""
    return change_requests.expire_due()


def purge_idempotency_keys_now() -> int:
    """The hourly purge: stored idempotency responses older than
    API_IDEMPOTENCY_RETENTION_HOURS, then FX quotes expired for FX_QUOTE_RETENTION_HOURS
    that nothing references; how many rows went."""
    hours = current_app.config["API_IDEMPOTENCY_RETENTION_HOURS"]
    purged = api_idempotency.purge_older_than(timedelta(hours=hours))
    quote_hours = current_app.config["FX_QUOTE_RETENTION_HOURS"]
    return purged + quote_purge.purge_expired(timedelta(hours=quote_hours))


def verify_ledger_now() -> list[str]:
    """Verify the ledger; mail every active admin the problems when there are any."""
    problems = verify_ledger()
    if problems:
        body = "The nightly ledger check found problems:\n\n" + "\n".join(problems)
        for address in dispatch.admin_addresses():
            mail.send(address, "VAULTA: the ledger check failed", body)
    return problems


def verify_audit_now() -> str | None:
    """Walk the audit log's hash chain; mail every active admin the first mismatch."""
    report = verify_chain()
    if report.problem:
        body = (
            "The nightly audit-chain check (flask vaulta verify-audit) found a mismatch:\n\n"
            f"{report.problem}\n\n{report.events} events checked; the last good one is "
            f"{report.head_id}. Compare with your latest export manifest (docs/security.md)."
        )
        for address in dispatch.admin_addresses():
            mail.send(address, "VAULTA: the audit chain check failed", body)
    return report.problem


def monthly_statements_now(statements_batch: Any) -> int:
    """Enqueue one batch task per ``STATEMENT_BATCH_SIZE`` accounts still missing the
    statement of the newest month whose backdating window has closed
    (``statements.due_month``); how many accounts were queued."""
    month = statements.due_month()
    missing = statements.accounts_missing(month)
    for batch in statements.batches(missing, current_app.config["STATEMENT_BATCH_SIZE"]):
        statements_batch(month.isoformat(), batch)
    if missing:
        log.info("monthly statements for %s: %d accounts queued", month, len(missing))
    return len(missing)


def run_standing_orders_now() -> int:
    """Run every standing order due today or earlier (catching up missed dates); how many
    runs were made."""
    return sum(standing_orders.run_due().values())


def register(huey: Huey, app: Flask) -> Jobs:
    def in_app(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            with app.app_context():
                try:
                    return work(*args)
                except UnderMaintenance:
                    log.info("job %s skipped: maintenance mode is on", name)
                    return None

        run.__name__ = name
        return run

    def deliver_and_schedule_retries() -> int:
        attempts = deliver_webhooks_now()
        for delivery_id, delay in _soon_retries():
            deliver_one.schedule(args=(delivery_id,), delay=delay)
        if notifications.any_due():  # the fan-out made some: mail them now, not in a minute
            send_notifications()
        return attempts

    def one(delivery_id: int) -> bool:
        outcome = dispatch.attempt(delivery_id)
        if outcome and outcome.retry_in and outcome.retry_in < SCHEDULE_RETRIES_WITHIN_SECONDS:
            deliver_one.schedule(args=(delivery_id,), delay=outcome.retry_in)
        return bool(outcome and outcome.succeeded)

    every_minute = crontab(minute="*")
    deliver_webhooks = huey.periodic_task(every_minute, name="vaulta.deliver_webhooks")(
        in_app("deliver_webhooks", deliver_and_schedule_retries)
    )
    deliver_one = huey.task(name="vaulta.deliver_one")(in_app("deliver_one", one))
    expire_payments = huey.periodic_task(crontab(minute="*/5"), name="vaulta.expire_payments")(
        in_app("expire_payments", expire_payments_now)
    )
    expire_holds = huey.periodic_task(crontab(minute="*/5"), name="vaulta.expire_holds")(
        in_app("expire_holds", expire_holds_now)
    )
    expire_changes = huey.periodic_task(
        crontab(minute="*/5"), name="vaulta.expire_change_requests"
    )(in_app("expire_change_requests", expire_change_requests_now))
    purge = huey.periodic_task(crontab(minute="17"), name="vaulta.purge_idempotency_keys")(
        in_app("purge_idempotency_keys", purge_idempotency_keys_now)
    )
    nightly = huey.periodic_task(
        crontab(minute="30", hour="2"), name="vaulta.nightly_verify_ledger"
    )(in_app("nightly_verify_ledger", verify_ledger_now))
    nightly_audit = huey.periodic_task(
        crontab(minute="45", hour="2"), name="vaulta.nightly_verify_audit"
    )(in_app("nightly_verify_audit", verify_audit_now))
    send_notifications = huey.periodic_task(every_minute, name="vaulta.send_notifications")(
        in_app("send_notifications", notifications.send_due)
    )
    reminders = huey.periodic_task(crontab(minute="*/15"), name="vaulta.approval_reminders")(
        in_app("approval_reminders", remind_approvers_now)
    )

    def issue_batch(month: str, account_ids: list[int]) -> None:
        # Every worker runs the scheduler: the first copy of a batch claims it for an hour
        # (not before the month's backdating window has closed: it would issue nothing).
        first = date.fromisoformat(month)
        if not statement_archive.is_final(first):
            log.info(
                "statements for %s: provisional until %s",
                month,
                statement_archive.window_closes(first),
            )
            return
        if not huey.put_if_empty(statements.batch_key(month, account_ids), 1, ttl=3600):
            log.info("statements for %s: batch %s taken by another copy", month, account_ids[:1])
            return
        issued = statements.issue_batch(first, account_ids)
        log.info("statements for %s: %d issued in a batch of %d", month, issued, len(account_ids))

    def export(job_id: int) -> None:
        log.info("export %s: %s", job_id, export_files.run_job(job_id))

    # These two return nothing: Huey would keep a task's result in the queue until read.
    statements_batch = huey.task(name="vaulta.statements_batch")(
        in_app("statements_batch", issue_batch)
    )
    monthly = huey.periodic_task(crontab(minute="15", hour="1"), name="vaulta.monthly_statements")(
        in_app("monthly_statements", lambda: monthly_statements_now(statements_batch))
    )
    run_export = huey.task(name="vaulta.run_export")(in_app("run_export", export))
    purge_exports = huey.periodic_task(crontab(minute="23"), name="vaulta.purge_exports")(
        in_app("purge_exports", lambda: export_files.purge(run_export))
    )
    run_orders = huey.periodic_task(crontab(minute="*/15"), name="vaulta.run_standing_orders")(
        in_app("run_standing_orders", run_standing_orders_now)
    )
    return Jobs(
        huey,
        deliver_webhooks,
        deliver_one,
        expire_payments,
        expire_changes,
        purge,
        nightly,
        nightly_audit,
        send_notifications,
        reminders,
        monthly,
        statements_batch,
        run_export,
        purge_exports,
        run_orders,
        expire_holds,
    )


def _soon_retries() -> list[tuple[int, float]]:
    """Pending deliveries whose next attempt comes within SCHEDULE_RETRIES_WITHIN_SECONDS."""
    return backlog.upcoming(SCHEDULE_RETRIES_WITHIN_SECONDS)
