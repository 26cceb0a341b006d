"""``flask vaulta verify-audit``, ``export-audit`` and ``verify-audit-export``: the audit
hash chain checked in the database, written out for auditors, checked again offline."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from vaulta.services.audit import export
from vaulta.services.audit.verification import verify_chain
from vaulta.services.errors import DomainError

MANIFEST_SUFFIX = ".manifest.json"


def register_audit_commands(group: AppGroup) -> None:
    group.add_command(verify_audit_command)
    group.add_command(export_audit_command)
    group.add_command(verify_audit_export_command)


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


@click.command("export-audit")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def export_audit_command(date_from: datetime, date_to: datetime, path: Path) -> None:
    """Write the audit chain of a period (UTC days, both included) to PATH as JSON Lines,
    and its manifest to PATH.manifest.json (check them with verify-audit-export)."""
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    try:
        period = export.Period(date_from.date(), date_to.date())
        with path.open("wb") as out:
            manifest = export.export_chain(period, out)
        manifest_path.write_text(export.manifest_json(manifest), encoding="utf-8")
        export.record_export(None, manifest, via="cli")
    except DomainError as err:
        path.unlink(missing_ok=True)
        manifest_path.unlink(missing_ok=True)
        raise click.ClickException(err.message) from None
    click.echo(
        f"Exported {manifest['events']} event(s) (#{manifest['first_id']} to "
        f"#{manifest['last_id']}) to {path}; manifest {manifest_path}."
    )


@click.command("verify-audit-export")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_audit_export_command(path: Path) -> None:
    """Check an export offline (no database): every hash, the count and the file's SHA-256
    against PATH.manifest.json."""
    manifest_path = path.with_name(path.name + MANIFEST_SUFFIX)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    with path.open("rb") as lines:
        problem = export.verify_export(lines, manifest)
    if problem:
        click.echo(f"FAIL {problem}", err=True)
        raise click.exceptions.Exit(1)
    click.echo(
        f"Export OK: {manifest['events']} event(s) from {manifest['previous_hash'][:12]}… "
        f"to {manifest['last_hash']}."
    )
