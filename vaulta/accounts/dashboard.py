"""A customer's charts on their accounts page: each account's balance over the last 90
days and its money in and out per month, as SVG geometry (vaulta/charts.py) with the
figures for the tables beside them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vaulta.charts import Chart, Series, bars, lines
from vaulta.models import Account
from vaulta.money import exponent, to_decimal
from vaulta.services.reports import customer_dashboard
from vaulta.services.reports.customer_dashboard import AccountActivity


@dataclass(frozen=True)
class AccountCharts:
    activity: AccountActivity
    balance_chart: Chart
    flow_chart: Chart


def _axis(currency: str) -> Callable[[float], str]:
    """Axis labels in major units: whole units from 100 up (and for zero-decimal currencies)."""

    def fmt(value: float) -> str:
        return f"{value:,.0f}" if exponent(currency) == 0 or abs(value) >= 100 else f"{value:,.2f}"

    return fmt


def account_charts(account: Account) -> AccountCharts:
    activity = customer_dashboard.account_activity(account)
    currency = activity.currency

    def major(minor: int) -> float:
        return float(to_decimal(minor, currency))

    balance_chart = lines(
        f"Balance of {activity.number} at the end of each day, last "
        f"{customer_dashboard.BALANCE_DAYS} days, {currency}",
        [day.strftime("%d %b") for day, _ in activity.balances],
        [Series("balance", [major(b) for _, b in activity.balances], "series-0")],
        fmt=_axis(currency),
    )
    flow_chart = bars(
        f"Money in and out of {activity.number} per month, {currency}",
        [m.month.strftime("%b %Y") for m in activity.months],
        [
            Series("money in", [major(m.money_in_minor) for m in activity.months], "series-2"),
            Series("money out", [major(m.money_out_minor) for m in activity.months], "series-4"),
        ],
        stacked=False,
        fmt=_axis(currency),
    )
    return AccountCharts(activity, balance_chart, flow_chart)


def customer_charts(accounts: list[Account]) -> list[AccountCharts]:
    return [account_charts(account) for account in accounts]
