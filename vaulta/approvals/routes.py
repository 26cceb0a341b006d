"""Views of the approvals blueprint."""

from vaulta.approvals import bp  # noqa: F401
