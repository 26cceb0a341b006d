"""The demo's FX rates (``seed-demo``), so the demo customer's EUR and USD accounts can
convert: the rates of docs/examples/fx_rates.csv, in force from the start of the history."""

from __future__ import annotations

from datetime import datetime

from vaulta.services.ledger.fx import rates

DEMO_PAIRS = (
    ("EUR", "USD", "1.0850"),
    ("EUR", "GBP", "0.8560"),
    ("EUR", "CHF", "0.9410"),
    ("USD", "JPY", "150.25"),
)


def load_demo_rates(since: datetime) -> int:
    """Import the demo rates valid from ``since``; how many."""
    stamp = since.isoformat()
    lines = [",".join(rates.HEADER), *(f"{b},{q},{r},{stamp}" for b, q, r in DEMO_PAIRS)]
    return rates.import_rates("\n".join(lines) + "\n", source="demo", actor=None)
