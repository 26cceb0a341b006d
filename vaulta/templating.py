"""Template filters and globals."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app

from vaulta.money import format_amount, format_plain


def _datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.strftime(fmt) + " UTC" if value else ""


def has_endpoint(name: str) -> bool:
    """True when a view with this endpoint exists (navigation shows only what is there)."""
    return name in current_app.view_functions


def register(app: Flask) -> None:
    app.add_template_global(has_endpoint)
    app.add_template_filter(format_amount, "money")
    app.add_template_filter(format_plain, "money_plain")
    app.add_template_filter(_datetime, "dt")
