"""The staff dashboard's charts: figures from ``services.reports.staff_dashboard`` turned
into SVG geometry (vaulta/charts.py); the template shows each beside its table."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from vaulta.charts import Series, bars, hbars
from vaulta.models import utcnow
from vaulta.models.payment import PAYMENT_STATUSES
from vaulta.money import format_amount, to_decimal
from vaulta.services.reports import request_dashboard
from vaulta.services.reports import staff_dashboard as figures

WINDOWS = (30, 90)
DECISION_WEEKS = 12


def duration(seconds: float) -> str:
    """``3 d 4 h``, ``2 h 05 min`` or ``7 min``."""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def _series(
    names: list[str], per_day: dict[date, dict[str, int]], days: list[date]
) -> list[Series]:
    return [
        Series(name.replace("_", " "), [per_day[d].get(name, 0) for d in days], f"series-{i % 7}")
        for i, name in enumerate(names)
    ]


def payments_context(window: int) -> dict[str, Any]:
    today = utcnow().date()
    rows = figures.payments_per_day(window, today=today)
    days = [today - timedelta(days=n) for n in range(window - 1, -1, -1)]
    by_status: dict[date, dict[str, int]] = defaultdict(dict)
    by_currency: dict[date, dict[str, int]] = defaultdict(dict)
    for row in rows:
        by_status[row.day][row.status] = by_status[row.day].get(row.status, 0) + row.count
        by_currency[row.day][row.currency] = by_currency[row.day].get(row.currency, 0) + row.count
    statuses = [s for s in PAYMENT_STATUSES if any(r.status == s for r in rows)]
    currencies = sorted({r.currency for r in rows})
    labels = [d.strftime("%d %b") for d in days]
    currency_rows = [
        (day, currency, by_currency[day][currency])
        for day in days
        for currency in currencies
        if by_currency[day].get(currency)
    ]
    return {
        "window": window,
        "windows": WINDOWS,
        "payment_rows": rows,
        "currency_rows": currency_rows,
        "payments_by_status": bars(
            f"Payments requested per day over {window} days, by status",
            labels,
            _series(statuses, by_status, days),
            stacked=True,
            whole=True,
        ),
        "payments_by_currency": bars(
            f"Payments requested per day over {window} days, by currency",
            labels,
            _series(currencies, by_currency, days),
            stacked=True,
            whole=True,
        ),
    }


def backlog_context() -> dict[str, Any]:
    backlog = figures.approval_backlog()
    chart = hbars(
        f"Payments awaiting approval by age: {backlog.total} in all",
        [(label, count, str(count)) for label, count in backlog.buckets],
        css="series-1",
    )
    return {"backlog": backlog, "backlog_chart": chart}


def _decision_chart(title: str, weeks: list[figures.DecisionWeek]) -> Any:
    hours = [
        Series("median", [round(w.median_seconds / 3600, 2) for w in weeks], "series-0"),
        Series("90th percentile", [round(w.p90_seconds / 3600, 2) for w in weeks], "series-4"),
    ]
    return bars(
        title,
        [w.week.strftime("%d %b") for w in weeks],
        hours,
        stacked=False,
        fmt=lambda v: f"{v:,.1f} h",
    )


def decisions_context() -> dict[str, Any]:
    weeks = figures.decision_times(DECISION_WEEKS)
    title = f"Hours from request to decision per week, last {DECISION_WEEKS} weeks"
    chart = _decision_chart(title, weeks)
    return {"decision_weeks": weeks, "decisions_chart": chart, "duration": duration}


def requests_context() -> dict[str, Any]:
    """The checker inbox over every action: its backlog by age, and the weekly time from
    request to decision."""
    backlog = request_dashboard.inbox_backlog()
    weeks = request_dashboard.decision_times(DECISION_WEEKS)
    return {
        "inbox_backlog": backlog,
        "inbox_backlog_chart": hbars(
            f"Change requests awaiting a decision by age: {backlog.total} in all",
            [(label, count, str(count)) for label, count in backlog.buckets],
            css="series-5",
        ),
        "request_weeks": weeks,
        "request_decisions_chart": _decision_chart(
            f"Hours from change request to decision per week, last {DECISION_WEEKS} weeks",
            weeks,
        ),
    }


def balances_context() -> dict[str, Any]:
    balances = figures.balances_by_currency()
    chart = hbars(
        "What customers hold, by currency (each bar in its own currency)",
        [
            (
                b.currency,
                float(to_decimal(b.customer_total_minor, b.currency)),
                format_amount(b.customer_total_minor, b.currency),
            )
            for b in balances
        ],
        css="series-2",
        label_width=60,
    )
    return {"balances": balances, "balances_chart": chart}


def movements_context() -> dict[str, Any]:
    movements = figures.largest_movements()
    chart = hbars(
        "Today's largest movements",
        [
            (
                f"#{m.id} {m.kind}",
                float(to_decimal(m.amount_minor, m.currency)),
                format_amount(m.amount_minor, m.currency),
            )
            for m in movements
        ],
        css="series-3",
    )
    return {"movements": movements, "movements_chart": chart}


def dashboard_context(window: int) -> dict[str, Any]:
    return (
        payments_context(window)
        | backlog_context()
        | decisions_context()
        | requests_context()
        | balances_context()
        | movements_context()
    )
