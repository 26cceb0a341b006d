"""Exports of the transaction search and the audit log: streamed at once when small, else
prepared by a background job and fetched from ``/admin/exports/<id>`` by whoever asked."""

from flask import Blueprint

bp = Blueprint("exports", __name__)

from vaulta.exports import routes  # noqa: E402,F401
