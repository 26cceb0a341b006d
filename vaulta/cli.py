"""``flask vaulta …`` commands."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from vaulta.models import User
from vaulta.models.user import ROLE_STAFF, STAFF_ADMIN, STAFF_ROLES
from vaulta.ops import statements
from vaulta.ops.seeding import bulk_seed, demo
from vaulta.services import api_idempotency, standing_orders
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError
from vaulta.services.identity import api_keys, users
from vaulta.services.identity.users import clean_staff_roles
from vaulta.services.ledger.checks import verify_ledger
from vaulta.services.ledger.fx import quote_purge
from vaulta.services.maintenance import UnderMaintenance
from vaulta.services.payments.expiry import expire_due
from vaulta.services.reports import statement_archive


class VaultaCommands(AppGroup):
    """``flask vaulta``: a command that meets maintenance mode fails with one line (cron
    mail stays readable), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UnderMaintenance as err:
            raise click.ClickException(
                f"{err} Nothing was written; run it again once maintenance mode is off."
            ) from None


vaulta_cli = VaultaCommands("vaulta", help="VAULTA operations.")


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def _create_staff(email: str, name: str, roles: list[str], password_stdin: bool) -> User:
    try:
        clean_staff_roles(roles)  # before asking for a password
        return users.create_user(
            email, _password(password_stdin), role=ROLE_STAFF, full_name=name, staff_roles=roles
        )
    except DomainError as err:
        raise click.ClickException(err.message) from None


@vaulta_cli.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(STAFF_ROLES),
    help="A staff role; repeat for several.",
)
@click.option("--name", default="", help="Full name (the email when left out).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(email: str, roles: tuple[str, ...], name: str, password_stdin: bool) -> None:
    """Create a staff login holding --role ROLE …; the password is prompted for (or read from
    stdin). Audited as user.created (by the command line)."""
    user = _create_staff(email, name, list(roles), password_stdin)
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(user.role_names))}.")


@vaulta_cli.command("create-admin")
@click.argument("email")
@click.option("--name", default="Administrator", show_default=True, help="Full name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(email: str, name: str, password_stdin: bool) -> None:
    """Create a staff login with the admin role (create-user EMAIL --role admin)."""
    user = _create_staff(email, name, [STAFF_ADMIN], password_stdin)
    click.echo(f"Created admin {user.email}.")


@vaulta_cli.command("create-api-key")
@click.argument("email")
@click.option("--name", required=True, help="What the key is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=("read",),
    show_default=True,
    help="'read' or a permission name the login holds; repeat for several.",
)
def create_api_key(email: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key for a staff login and print it once (only its hash is stored).
    Audited as api_key.created (by the command line)."""
    user = users.find_by_email(email)
    if user is None:
        raise click.ClickException(f"There is no login {users.normalise_email(email)}.")
    try:
        new = api_keys.create_for_staff(user, name, scopes, actor=None)
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"Created key {new.key.name!r} for {user.email} (scopes: {new.key.scopes}).")
    click.echo("It is shown once; store it now:")
    click.echo(new.raw)


@vaulta_cli.command("seed-demo")
@click.option("--password", default=demo.DEMO_PASSWORD, show_default=True)
@click.option("--if-empty", is_flag=True, help="Do nothing unless the database has no users.")
@click.option(
    "--customers",
    type=click.IntRange(min=1),
    help="Also bulk-add this many customers (one or two accounts each). Not idempotent.",
)
@click.option(
    "--transactions",
    type=click.IntRange(min=0),
    default=0,
    help="With --customers: this many deposits, withdrawals and transfers among them.",
)
@click.option("--seed", "rng_seed", type=int, help="With --customers: the random seed.")
def seed_demo(
    password: str,
    if_empty: bool,
    customers: int | None,
    transactions: int,
    rng_seed: int | None,
) -> None:
    """Create demo logins, customers, accounts and history (idempotent).

    With --customers N [--transactions M] it then adds N customers and M postings at
    scale in one database transaction. That part is NOT idempotent: every run adds another
    batch (with new customer and account numbers); `verify-ledger` passes after each. While
    it loads, the transactions table (on PostgreSQL also the accounts and users it refers
    to) is locked against everyone else: run it on a database that is not in use yet.
    """
    if customers is None and transactions:
        raise click.UsageError("--transactions needs --customers.")
    if if_empty and not demo.database_is_empty():
        click.echo("Database already has data: demo seed skipped.")
    else:
        created = demo.seed_demo(password)
        click.echo("Demo data created." if created else "Demo data already present.")
        if customers is not None:
            _bulk_seed(customers, transactions, rng_seed)
    click.echo(f"Demo logins (password: {password}):")
    for email, role in demo.demo_logins():
        click.echo(f"  {email:<24} {role}")
    click.echo(
        "Staff confirm each sign-in with a mailed code: in development the mail outbox is "
        "at /dev/outbox (e.g. http://127.0.0.1:5000/dev/outbox)."
    )


def _bulk_seed(customers: int, transactions: int, rng_seed: int | None) -> None:
    with click.progressbar(length=customers + transactions, label="Seeding") as bar:
        result = bulk_seed.bulk_seed(
            customers, transactions, progress=bar.update, rng_seed=rng_seed
        )
    click.echo(
        f"Added {result.customers} customers, {result.accounts} accounts and "
        f"{result.transactions} transactions (seed {result.rng_seed})."
    )


@vaulta_cli.command("verify-ledger")
def verify_ledger_command() -> None:
    """Check every ledger invariant; exit non-zero and list each violation if one fails."""
    problems = verify_ledger()
    if problems:
        for problem in problems:
            click.echo(f"FAIL {problem}", err=True)
        raise click.exceptions.Exit(1)
    click.echo("Ledger OK: balances match postings, books balance per currency.")


@vaulta_cli.command("expire-payments")
def expire_payments_command() -> None:
    """Mark payments that were not confirmed or approved in time as expired."""
    click.echo(f"Expired {expire_due()} payment(s).")


@vaulta_cli.command("run-standing-orders")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run what is due up to this day (YYYY-MM-DD); default today (UTC).",
)
def run_standing_orders_command(on: datetime | None) -> None:
    """Run due standing orders once per due date and mail failed runs (the worker does
    this every 15 minutes; safe beside it)."""
    counts = standing_orders.run_due(on.date() if on else None)
    made = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing due"
    click.echo(f"Standing orders: {made}.")


@vaulta_cli.command("expire-change-requests")
def expire_change_requests_command() -> None:
    """Mark change requests not decided within CHANGE_REQUEST_TTL_HOURS as expired."""
    click.echo(f"Expired {change_requests.expire_due()} change request(s).")


@vaulta_cli.command("purge-idempotency-keys")
def purge_idempotency_keys_command() -> None:
    """Delete stored API idempotency responses older than API_IDEMPOTENCY_RETENTION_HOURS."""
    hours = int(current_app.config["API_IDEMPOTENCY_RETENTION_HOURS"])
    deleted = api_idempotency.purge_older_than(timedelta(hours=hours))
    click.echo(f"Deleted {deleted} stored idempotency response(s) older than {hours} h.")


@vaulta_cli.command("purge-fx-quotes")
def purge_fx_quotes_command() -> None:
    """Delete FX quotes expired more than FX_QUOTE_RETENTION_HOURS ago that nothing
    references (no conversion, no pending change request); the hourly job does the same."""
    hours = int(current_app.config["FX_QUOTE_RETENTION_HOURS"])
    deleted = quote_purge.purge_expired(timedelta(hours=hours))
    click.echo(f"Deleted {deleted} FX quote(s) expired more than {hours} h ago.")


@vaulta_cli.command("issue-statements")
@click.option("--month", default=None, help="YYYY-MM (default: last month).")
def issue_statements_command(month: str | None) -> None:
    """Issue a month's PDF statement for every open customer account still without one (what
    the monthly job does; again at any time: the kept ones stay). The default month is the
    newest whose backdating window (LEDGER_BACKDATE_DAYS) has closed; a month still open
    to backdating is refused."""
    try:
        first = statement_archive.parse_month(month) if month else statements.due_month()
    except DomainError:
        raise click.BadParameter("give the month as YYYY-MM", param_hint="--month") from None
    if first > statements.last_month():
        raise click.BadParameter("only a month that is over has a statement", param_hint="--month")
    if not statement_archive.is_final(first):
        closes = statement_archive.window_closes(first).isoformat()
        raise click.BadParameter(
            f"entries may still be dated into {first:%Y-%m} until {closes}: its statements "
            "are kept from that day on",
            param_hint="--month",
        )
    missing = statements.accounts_missing(first)
    issued = sum(statements.issue_batch(first, batch) for batch in statements.batches(missing, 100))
    click.echo(f"Issued {issued} statement(s) for {first:%Y-%m}.")


@vaulta_cli.command("worker")
@click.option("--workers", "-w", default=2, show_default=True, help="Worker threads.")
@click.option(
    "--no-periodic", is_flag=True, help="Do not run the periodic jobs (another worker does)."
)
def worker_command(workers: int, no_periodic: bool) -> None:
    """Run a task-queue consumer (Huey): webhooks, expiry, purges, the nightly ledger check.

    Run any number, on any number of machines sharing TASK_QUEUE_URL (docs/deploy.md)."""
    from vaulta.ops.queue import queue

    huey = queue()
    if huey.immediate:
        raise click.ClickException("TASK_QUEUE_IMMEDIATE is on: tasks run in the caller.")
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=not no_periodic)
    click.echo(f"VAULTA worker: {workers} thread(s) on {type(huey).__name__}; Ctrl-C stops it.")
    consumer.run()


def register_cli(app: Flask) -> None:
    from vaulta.audit_cli import register_audit_commands
    from vaulta.fx_cli import register_fx_commands
    from vaulta.ops.cli import register_ops_commands

    register_ops_commands(vaulta_cli)
    register_audit_commands(vaulta_cli)
    register_fx_commands(vaulta_cli)
    app.cli.add_command(vaulta_cli)
