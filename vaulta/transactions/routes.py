"""Views of the transactions blueprint."""

from vaulta.transactions import bp  # noqa: F401
