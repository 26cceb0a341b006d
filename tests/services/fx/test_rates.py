"""The FX rate registry: ``flask vaulta fx-rates import`` (all or nothing, errors naming the
line, audited) and the rate in force at a time (the pair's own, else the reverse pair)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.helpers import count_rows, vaulta_cli
from vaulta.extensions import db
from vaulta.models import AuditEvent, FxRate
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger.fx import rates

GOOD = """base,quote,rate,valid_from
EUR,USD,1.0850,2026-12-01T00:00:00Z
EUR,USD,1.0900,2026-12-02T00:00:00+01:00
USD,JPY,150.25,2026-12-01T00:00:00Z
"""


def _write(tmp_path: Path, text: str, name: str = "rates.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_cli_imports_a_file_and_audits_it(app: Flask, tmp_path: Path) -> None:
    result = vaulta_cli(app, "fx-rates", "import", str(_write(tmp_path, GOOD)))
    assert result.exit_code == 0, result.output
    assert "Imported 3 rate(s)" in result.output
    stored = db.session.scalars(sa.select(FxRate).order_by(FxRate.id)).all()
    assert [(r.base, r.quote, r.rate, r.source) for r in stored] == [
        ("EUR", "USD", Decimal("1.0850"), "file:rates.csv"),
        ("EUR", "USD", Decimal("1.0900"), "file:rates.csv"),
        ("USD", "JPY", Decimal("150.25"), "file:rates.csv"),
    ]
    assert str(stored[0].rate) == "1.0850"  # exactly as written, trailing zero kept
    assert stored[1].valid_from == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "fx_rates.import")
    ).all()
    assert len(events) == 1
    assert events[0].details["count"] == 3


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("EUR,XXX,1.1,2026-12-01T00:00:00Z", "quote 'XXX' is not a currency VAULTA knows"),
        ("EUR,EUR,1.1,2026-12-01T00:00:00Z", "base and quote must differ"),
        ("EUR,USD,-1.1,2026-12-01T00:00:00Z", "is not a decimal number"),
        ("EUR,USD,0,2026-12-01T00:00:00Z", "greater than zero"),
        ("EUR,USD,1e3,2026-12-01T00:00:00Z", "is not a decimal number"),
        ("EUR,USD,1.1234567890123,2026-12-01T00:00:00Z", "more than 12 decimals"),
        ("EUR,USD,1.1,2026-12-01", "has no offset"),
        ("EUR,USD,1.1,yesterday", "not an ISO 8601 timestamp"),
        ("EUR,USD,1.1", "expected 4 columns, found 3"),
    ],
)
def test_one_bad_line_imports_nothing_and_is_named(
    app: Flask, tmp_path: Path, line: str, problem: str
) -> None:
    text = GOOD + line + "\n"
    result = vaulta_cli(app, "fx-rates", "import", str(_write(tmp_path, text)))
    assert result.exit_code != 0
    assert "ERROR line 5: " in result.output
    assert problem in result.output
    assert "Nothing imported" in result.output
    assert count_rows(FxRate) == 0


def test_a_bad_header_a_repeated_line_and_an_empty_file(app: Flask) -> None:
    with pytest.raises(rates.RatesFileError, match="line 1: the header must be"):
        rates.parse_rates("from,to,rate,when\nEUR,USD,1.1,2026-12-01T00:00:00Z\n")
    with pytest.raises(rates.RatesFileError, match="line 3: repeats line 2"):
        rates.parse_rates(
            "base,quote,rate,valid_from\n"
            "EUR,USD,1.1,2026-12-01T00:00:00Z\n"
            "EUR,USD,1.2,2026-12-01T01:00:00+01:00\n"
        )
    with pytest.raises(rates.RatesFileError, match="no rates"):
        rates.parse_rates("base,quote,rate,valid_from\n")


def test_importing_a_rate_already_in_the_registry_imports_nothing(
    app: Flask, tmp_path: Path
) -> None:
    assert (
        rates.import_rates(
            GOOD.splitlines(keepends=True)[0] + GOOD.splitlines()[1] + "\n",
            source="feed",
            actor=None,
        )
        == 1
    )
    with pytest.raises(rates.RatesFileError, match="line 2: EUR/USD at 2026-12-01T00:00:00"):
        rates.import_rates(GOOD, source="feed", actor=None)
    assert count_rows(FxRate) == 1
    result = vaulta_cli(app, "fx-rates", "import", str(_write(tmp_path, GOOD)))
    assert result.exit_code != 0
    assert "already in the registry" in result.output


def test_a_source_is_required(app: Flask) -> None:
    with pytest.raises(InvalidInput, match="source"):
        rates.import_rates(GOOD, source="  ", actor=None)


def test_the_rate_in_force_and_the_reverse_pair(app: Flask) -> None:
    rates.import_rates(GOOD, source="feed", actor=None)
    s = db.session
    before = datetime(2026, 11, 30, tzinfo=UTC)
    day_one = datetime(2026, 12, 1, 12, tzinfo=UTC)
    later = datetime(2026, 12, 5, tzinfo=UTC)
    assert rates.rate_in_force(s, "EUR", "USD", day_one).rate == Decimal("1.0850")
    found = rates.rate_in_force(s, "EUR", "USD", later)
    assert (found.rate, found.inverted) == (Decimal("1.0900"), False)
    reverse = rates.rate_in_force(s, "USD", "EUR", later)
    assert (reverse.base, reverse.quote, reverse.rate, reverse.inverted) == (
        "EUR",
        "USD",
        Decimal("1.0900"),
        True,
    )
    with pytest.raises(InvalidInput, match="no exchange rate for EUR/USD"):
        rates.rate_in_force(s, "EUR", "USD", before)
    with pytest.raises(InvalidInput, match="no exchange rate for EUR/JPY"):
        rates.rate_in_force(s, "EUR", "JPY", later)


def test_the_example_file_imports(app: Flask) -> None:
    example = Path(__file__).parents[3] / "docs" / "examples" / "fx_rates.csv"
    result = vaulta_cli(app, "fx-rates", "import", str(example), "--source", "example")
    assert result.exit_code == 0, result.output
    assert count_rows(FxRate) == 5
