"""Views of the payments blueprint."""

from vaulta.payments import bp  # noqa: F401
