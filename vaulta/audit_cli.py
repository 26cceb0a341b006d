"""``flask vaulta verify-audit``, ``export-audit`` and ``verify-audit-export``: the audit
hash chain checked in the database, written out for auditors, checked again offline."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from vaulta.services.audit.verification import verify_chain


def register_audit_commands(group: AppGroup) -> None:
    group.add_command(verify_audit_command)


@click.command("verify-audit")
def verify_audit_command() -> None:
    """Walk the audit hash chain; exit non-zero naming the first event that does not match."""
    report = verify_chain()
    if not report.ok:
        click.echo(f"FAIL {report.problem}", err=True)
        click.echo(
            f"The {report.events - 1} event(s) before it check out (up to #{report.head_id}).",
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(
        f"Audit chain OK: {report.events} event(s), head #{report.head_id} {report.head_hash}."
    )
