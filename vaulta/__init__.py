"""VAULTA: a banking back-office. ``create_app`` builds the Flask application."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from vaulta import config as config_module
from vaulta.jsonlimits import DepthLimitedJSONProvider

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROXY_HEADERS = ("for", "proto", "host", "port", "prefix")


def create_app(
    config: str | type[config_module.Config] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Flask:
    """Build the app from a config name (``development``, ``testing``, ``production``) or class.

    ``overrides`` are applied last (tests use them to point at their own database).
    """
    app = Flask(
        __name__,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
        instance_path=os.path.join(PROJECT_ROOT, "instance"),
    )
    app.json = DepthLimitedJSONProvider(app)  # JSON nested deeper than JSON_MAX_DEPTH: 400
    config_class = config_module.resolve(config)
    app.config.from_object(config_class)
    config_module.apply_environment(app.config, app.instance_path)
    app.config.update(overrides or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    config_class.validate(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    _register_blueprints(app)
    # Browsers ask every site for /favicon.ico: it is a static file like the others.
    app.add_url_rule("/favicon.ico", endpoint="static", defaults={"filename": "favicon.ico"})

    from vaulta import error_handlers, outages, templating, web
    from vaulta.cli import register_cli

    error_handlers.register(app)
    outages.register(app)  # database or Redis outage: 503 with Retry-After
    templating.register(app)
    web.register(app)
    register_cli(app)
    _trust_proxies(app)
    from vaulta.ops import startup

    startup.init_app(app)  # SCHEMA_CHECK: refuse (production) / banner (development)
    from vaulta.ops import queue

    queue.init_app(app)  # Huey: background jobs and webhook delivery (vaulta/ops/jobs.py)
    from vaulta import logs
    from vaulta.ops import metrics

    logs.configure(app)  # request ids; JSON lines when LOG_FORMAT=json
    metrics.init_app(app)  # request latency for /metrics
    return app


def _trust_proxies(app: Flask) -> None:
    """ProxyFix for the reverse proxies in front of the app (PROXY_FIX_X_* counts, 0 = off)."""
    counts = {h: app.config.get(f"PROXY_FIX_X_{h.upper()}", 0) for h in PROXY_HEADERS}
    if any(counts.values()):
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxied = ProxyFix(app.wsgi_app, **{f"x_{h}": n for h, n in counts.items()})
        app.wsgi_app = proxied  # type: ignore[method-assign]


def _init_extensions(app: Flask) -> None:
    from vaulta.auth.access import init_login
    from vaulta.database import configure_engine
    from vaulta.extensions import csrf, db, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    init_login(app)
    from vaulta.security.setup import init_security

    init_security(app)  # headers, session timeouts, rate limits (docs/security.md)


def _register_blueprints(app: Flask) -> None:
    from vaulta.accounts import bp as accounts_bp
    from vaulta.admin import bp as admin_bp
    from vaulta.approvals import bp as approvals_bp
    from vaulta.auth import bp as auth_bp
    from vaulta.customers import bp as customers_bp
    from vaulta.payments import bp as payments_bp
    from vaulta.standing_orders import bp as standing_orders_bp
    from vaulta.transactions import bp as transactions_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(accounts_bp)  # customers' pages at /accounts, admins' at /admin/accounts
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(customers_bp, url_prefix="/admin/customers")
    app.register_blueprint(transactions_bp, url_prefix="/admin/transactions")
    app.register_blueprint(payments_bp, url_prefix="/payments")
    app.register_blueprint(standing_orders_bp)  # /payments/standing-orders, /admin/…
    app.register_blueprint(approvals_bp, url_prefix="/admin/approvals")
    from vaulta.exports import bp as exports_bp

    app.register_blueprint(exports_bp, url_prefix="/admin")  # large exports: the requester only

    from vaulta.inbox import bp as inbox_bp
    from vaulta.payfiles import bp as payfiles_bp
    from vaulta.payfiles import customer_bp as customer_payfiles_bp

    app.register_blueprint(inbox_bp, url_prefix="/admin")  # /admin/inbox, /admin/requests/<id>
    # /admin/accounts/<id>/payment-files (upload, preview, submit), /admin/payment-batches/<id>
    app.register_blueprint(payfiles_bp, url_prefix="/admin")
    # a customer's own: /payments/files (list, upload per own account, their batches)
    app.register_blueprint(customer_payfiles_bp, url_prefix="/payments/files")
    from vaulta.api import bp as api_bp
    from vaulta.extensions import csrf

    app.register_blueprint(api_bp, url_prefix="/api/v1")  # bearer keys only (vaulta/api/auth.py)
    csrf.exempt(api_bp)
    from vaulta.webhooks import api_bp as webhooks_api_bp
    from vaulta.webhooks import bp as webhooks_bp

    app.register_blueprint(webhooks_bp, url_prefix="/admin/webhooks")
    app.register_blueprint(webhooks_api_bp, url_prefix="/api/v1/webhook-endpoints")  # admins
    from vaulta.dev import bp as dev_bp

    app.register_blueprint(dev_bp, url_prefix="/dev")  # /dev/outbox (console mail only)
    from vaulta.ops import bp as ops_bp
    from vaulta.ops import health_bp

    # /healthz, /metrics: GET only (CSRFProtect checks no GET; a POST is refused), no session
    app.register_blueprint(health_bp)
    app.register_blueprint(ops_bp, url_prefix="/admin")  # /admin/system
