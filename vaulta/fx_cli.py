"""``flask vaulta fx-rates import FILE.csv``: load FX rates into the registry, all or nothing
(vaulta/services/ledger/fx/rates.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from vaulta.services.errors import DomainError
from vaulta.services.ledger.fx import rates

fx_rates_cli = AppGroup("fx-rates", help="The FX rate registry.")


def register_fx_commands(group: AppGroup) -> None:
    group.add_command(fx_rates_cli)


@fx_rates_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--source",
    default=None,
    help="Where the rates come from (default: the file's name), kept with each rate.",
)
def import_rates_command(path: Path, source: str | None) -> None:
    """Import rates from a CSV file with the header base,quote,rate,valid_from (e.g.
    EUR,USD,1.0850,2026-12-01T00:00:00Z). One bad line and nothing is imported: each
    problem is listed with its line number."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise click.ClickException(f"{path} is not UTF-8 text.") from None
    try:
        count = rates.import_rates(text, source=source or f"file:{path.name}", actor=None)
    except rates.RatesFileError as err:
        for problem in err.problems:
            click.echo(f"ERROR {problem}", err=True)
        raise click.ClickException(
            f"Nothing imported: {len(err.problems)} problem(s) in {path}."
        ) from None
    except DomainError as err:
        raise click.ClickException(err.message) from None
    click.echo(f"Imported {count} rate(s) from {path}.")
