"""Where a sign-in lands: the user's home page or a safe ``next`` address."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for

from vaulta.models import User


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after sign-in (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user: User) -> str:
    return url_for("admin.index") if user.is_staff else url_for("accounts.index")
