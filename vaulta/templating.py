"""Template filters and globals."""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from vaulta.money import format_amount, format_plain


def _datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.strftime(fmt) + " UTC" if value else ""


def register(app: Flask) -> None:
    app.add_template_filter(format_amount, "money")
    app.add_template_filter(format_plain, "money_plain")
    app.add_template_filter(_datetime, "dt")
