"""The FX rate registry: importing rates (all or nothing) and finding the rate in force.

A CSV file has the header ``base,quote,rate,valid_from`` and one rate per line:
``EUR,USD,1.0850,2026-12-01T00:00:00Z``. ``base`` and ``quote`` are different currencies
VAULTA knows (vaulta/money.py); ``rate`` is a positive decimal (digits, one optional point,
at most ``RATE_MAX_PLACES`` decimals: never a float, never an exponent); ``valid_from`` an
ISO 8601 timestamp with its offset (``Z`` or ``+01:00``). A file with any bad line, a
line repeating another's pair and time, or a rate already in the registry for that pair and
time imports nothing: every error names its line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import FxRate, User
from vaulta.models.fx import RATE_MAX_LENGTH, RATE_MAX_PLACES
from vaulta.money import CURRENCY_EXPONENTS
from vaulta.services import audit
from vaulta.services.errors import InvalidInput
from vaulta.services.unit_of_work import write_transaction

HEADER = ("base", "quote", "rate", "valid_from")
SOURCE_MAX = 64
MAX_LINES = 10_000
_RATE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class RateLine:
    line: int
    base: str
    quote: str
    rate: Decimal
    valid_from: datetime


@dataclass(frozen=True)
class RateInForce:
    """The registry row a conversion uses; ``inverted`` when only the reverse pair exists."""

    rate_id: int
    base: str
    quote: str
    rate: Decimal
    valid_from: datetime
    inverted: bool


class RatesFileError(InvalidInput):
    """The file cannot be imported; ``problems`` lists every bad line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems[:20]) + (" …" if len(problems) > 20 else ""))
        self.problems = problems


def parse_rate(text: str) -> Decimal:
    """A positive decimal rate, exactly as written; ValueError saying why otherwise."""
    text = text.strip()
    if not _RATE_RE.fullmatch(text) or len(text) > RATE_MAX_LENGTH:
        raise ValueError(f"rate {text!r} is not a decimal number like 1.0850")
    value = Decimal(text)
    if -int(value.as_tuple().exponent) > RATE_MAX_PLACES:
        raise ValueError(f"rate {text!r} has more than {RATE_MAX_PLACES} decimals")
    if value <= 0:
        raise ValueError("the rate must be greater than zero")
    return value


def parse_timestamp(text: str) -> datetime:
    """An ISO 8601 timestamp with an offset, as UTC; ValueError otherwise."""
    text = text.strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"valid_from {text!r} is not an ISO 8601 timestamp") from None
    if value.tzinfo is None:
        raise ValueError(f"valid_from {text!r} has no offset: write Z or +hh:mm")
    return value.astimezone(UTC)


def _currency(text: str, name: str) -> str:
    code = text.strip()
    if code not in CURRENCY_EXPONENTS:
        raise ValueError(f"{name} {code!r} is not a currency VAULTA knows")
    return code


def parse_rates(text: str) -> list[RateLine]:
    """Every line of a rates CSV, checked; RatesFileError listing every bad line."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    problems: list[str] = []
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != HEADER:
        raise RatesFileError([f"line 1: the header must be {','.join(HEADER)}"])
    lines: list[RateLine] = []
    seen: dict[tuple[str, str, datetime], int] = {}
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) + len(problems) >= MAX_LINES:
            problems.append(f"line {number}: a file holds at most {MAX_LINES} rates")
            break
        if len(row) != len(HEADER):
            problems.append(f"line {number}: expected {len(HEADER)} columns, found {len(row)}")
            continue
        try:
            base = _currency(row[0], "base")
            quote = _currency(row[1], "quote")
            if base == quote:
                raise ValueError("base and quote must differ")
            line = RateLine(number, base, quote, parse_rate(row[2]), parse_timestamp(row[3]))
        except ValueError as err:
            problems.append(f"line {number}: {err}")
            continue
        key = (line.base, line.quote, line.valid_from)
        if key in seen:
            problems.append(
                f"line {number}: repeats line {seen[key]} ({base}/{quote} at that time)"
            )
            continue
        seen[key] = number
        lines.append(line)
    if not lines and not problems:
        problems.append("the file holds no rates")
    if problems:
        raise RatesFileError(problems)
    return lines


def import_rates(text: str, *, source: str, actor: User | None) -> int:
    """Import a rates CSV (module docstring) in one transaction; the number of rates.

    Refuses the whole file (RatesFileError) when any line is bad or already imported.
    Records the audit event ``fx_rates.import``.
    """
    source = " ".join((source or "").split())
    if not source or len(source) > SOURCE_MAX:
        raise InvalidInput(
            f"Name the rates' source (1 to {SOURCE_MAX} characters).", field="source"
        )
    lines = parse_rates(text)
    with write_transaction() as s:
        clashes = _already_imported(s, lines)
        if clashes:
            raise RatesFileError(
                [
                    f"line {line.line}: {line.base}/{line.quote} at "
                    f"{line.valid_from.isoformat()} is already in the registry"
                    for line in clashes
                ]
            )
        actor_id = audit.actor_id(actor)
        s.execute(
            sa.insert(FxRate),
            [
                {
                    "base": line.base,
                    "quote": line.quote,
                    "rate": line.rate,
                    "source": source,
                    "valid_from": line.valid_from,
                    "created_by_id": actor_id,
                }
                for line in lines
            ],
        )
        pairs = sorted({f"{line.base}/{line.quote}" for line in lines})
        audit.record(
            s,
            actor=actor_id,
            action="fx_rates.import",
            object_type="fx_rates",
            details={"count": len(lines), "source": source, "pairs": pairs[:50]},
        )
    return len(lines)


def _already_imported(s: Session, lines: list[RateLine]) -> list[RateLine]:
    pairs = {(line.base, line.quote) for line in lines}
    existing = {
        (base, quote, valid_from)
        for base, quote, valid_from in s.execute(
            sa.select(FxRate.base, FxRate.quote, FxRate.valid_from).where(
                sa.tuple_(FxRate.base, FxRate.quote).in_(sorted(pairs))
            )
        )
    }
    return [line for line in lines if (line.base, line.quote, line.valid_from) in existing]


def _latest(s: Session, base: str, quote: str, at: datetime) -> FxRate | None:
    return s.scalar(
        sa.select(FxRate)
        .where(FxRate.base == base, FxRate.quote == quote, FxRate.valid_from <= at)
        .order_by(FxRate.valid_from.desc())
        .limit(1)
    )


def rate_in_force(s: Session, from_currency: str, to_currency: str, at: datetime) -> RateInForce:
    """The rate to convert ``from_currency`` into ``to_currency`` at ``at``: the pair's own
    rate in force when there is one, else the reverse pair's (``inverted``: 1 / rate).
    InvalidInput when neither has a rate in force."""
    for base, quote, inverted in (
        (from_currency, to_currency, False),
        (to_currency, from_currency, True),
    ):
        row = _latest(s, base, quote, at)
        if row is not None:
            return RateInForce(row.id, row.base, row.quote, row.rate, row.valid_from, inverted)
    raise InvalidInput(
        f"There is no exchange rate for {from_currency}/{to_currency} at the moment.",
        field="to_account",
    )
