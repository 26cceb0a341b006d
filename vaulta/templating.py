"""Template filters and globals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, request, url_for

from vaulta.models import utcnow
from vaulta.models.account import STATUS_LABELS
from vaulta.money import format_amount, format_plain
from vaulta.services.changes.actions import ACTIONS
from vaulta.web import awaiting_approval

DEFAULT_DATETIME = "%Y-%m-%d %H:%M"


def _datetime(value: datetime | None, fmt: str = DEFAULT_DATETIME) -> str:
    if not value:
        return ""
    if fmt == DEFAULT_DATETIME:  # the usual format without strftime (half the time)
        v = value
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d} UTC"
    return value.strftime(fmt) + " UTC"


def has_endpoint(name: str) -> bool:
    """True when a view with this endpoint exists (navigation shows only what is there)."""
    return name in current_app.view_functions


_MARK = 918273645  # an id no route would produce by itself


def url_prefix(endpoint: str, key: str) -> str:
    """The URL of ``endpoint`` up to its last argument, the integer ``key``.

    Tables link every row to one endpoint: ``{{ prefix }}{{ id }}`` is one ``url_for`` per
    page instead of one per row. Only for routes whose URL ends with that argument (a
    ValueError otherwise). Memoised per application and mount point, like ``layout_urls``.
    """
    memo = current_app.extensions.setdefault("vaulta_url_prefixes", {})
    memo_key = (request.script_root, endpoint, key)
    prefix = memo.get(memo_key)
    if prefix is None:
        url = url_for(endpoint, **{key: _MARK})
        if not url.endswith(str(_MARK)):
            raise ValueError(f"the URL of {endpoint} does not end with its {key}: {url}")
        prefix = memo[memo_key] = url.removesuffix(str(_MARK))
    return prefix


# The navigation: (endpoint, label); links to features an app lacks are left out. Staff
# links carry the permission their page needs: each staff member sees what they may open
# (MAKERS: any action's maker permission, vaulta/services/changes/actions.py).
MAKERS = "makers"
STAFF_NAV = (
    ("admin.index", "Dashboard", "staff.dashboard"),
    ("customers.index", "Customers", "customers.read"),
    ("transactions.search", "Transactions", "ledger.read"),
    ("inbox.index", "Inbox", "requests.decide"),
    ("inbox.mine", "My requests", MAKERS),
    ("approvals.index", "Approvals", "payments.read"),
    ("admin.fx_rates", "FX rates", "fx.read"),
    ("admin.audit", "Audit log", "audit.read"),
    ("admin.staff", "Staff", "users.read"),
    ("admin.roles", "Roles", "roles.read"),
    ("admin.policies_index", "Policies", "policies.manage"),
    ("webhooks.index", "Webhooks", "webhooks.manage"),
    ("ops.system", "System", "system.read"),
)
CUSTOMER_NAV = (("accounts.index", "My accounts"), ("payments.index", "Payments"))
SHARED_NAV = (("auth.settings", "Settings"),)
STATIC_FILES = {
    "pico": "vendor/pico-2.1.1/pico.min.css",
    "css": "app.css",
    "htmx": "vendor/htmx-2.0.11/htmx.min.js",
    "icon": "favicon.svg",
}


@dataclass(frozen=True)
class LayoutUrls:
    """Every URL the page layout links to, for one audience."""

    home: str
    nav: tuple[tuple[str, str, str], ...]  # (endpoint, label, url)
    static: dict[str, str]
    logout: str


def layout_urls(staff_permissions: frozenset[str] | None) -> LayoutUrls:
    """The layout's URLs, built once per application, mount point and audience (a staff
    member's permissions, or None for customers and visitors).

    Every page needs the same dozen ``url_for`` calls; they depend only on the routes and
    the mount point (``SCRIPT_NAME``), so they are memoised on the application.
    """
    memo = current_app.extensions.setdefault("vaulta_layout_urls", {})
    key = (request.script_root, staff_permissions)
    urls = memo.get(key)
    if urls is None:
        if staff_permissions is None:
            wanted = CUSTOMER_NAV + SHARED_NAV
        else:
            makers = {spec.maker_permission for spec in ACTIONS.values()}
            allowed = [
                (e, label)
                for e, label, p in STAFF_NAV
                if (staff_permissions & makers if p == MAKERS else p in staff_permissions)
            ]
            wanted = (*allowed, *SHARED_NAV)
        urls = memo[key] = LayoutUrls(
            home=url_for("accounts.index"),
            nav=tuple((e, label, url_for(e)) for e, label in wanted if has_endpoint(e)),
            static={k: url_for("static", filename=f) for k, f in STATIC_FILES.items()},
            logout=url_for("auth.logout"),
        )
    return urls


def endpoint_url(endpoint: str) -> str:
    """``url_for(endpoint)`` for an endpoint without arguments, built once per application
    and mount point (like ``layout_urls``)."""
    memo = current_app.extensions.setdefault("vaulta_endpoint_urls", {})
    key = (request.script_root, endpoint)
    url = memo.get(key)
    if url is None:
        url = memo[key] = url_for(endpoint)
    return url


def account_status_label(status: str) -> str:
    """An account's status as pages show it (``debit_blocked`` → "debit blocked (no money
    out)")."""
    return STATUS_LABELS.get(status, status)


def register(app: Flask) -> None:
    app.add_template_global(layout_urls)
    app.add_template_global(endpoint_url)
    app.add_template_global(has_endpoint)
    app.add_template_global(url_prefix)
    app.add_template_global(utcnow, "now")
    app.add_template_global(awaiting_approval)
    app.add_template_filter(format_amount, "money")
    app.add_template_filter(format_plain, "money_plain")
    app.add_template_filter(_datetime, "dt")
    app.add_template_filter(account_status_label, "account_status")
