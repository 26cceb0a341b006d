"""Typed domain errors. One error handler turns them into 4xx pages or JSON."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``status`` is the HTTP status, ``code`` a stable machine-readable name."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


class Conflict(DomainError):
    """The request clashes with the current state (already decided, duplicate, …)."""

    status = 409
    code = "conflict"


class CustomerNotActive(DomainError):
    """The login's customer is suspended or closed: no sign-in, no API call, no new key.

    Said only to someone who proved the login (a correct password, a valid API key), so it
    reveals nothing to anyone else. ``code`` is ``customer_suspended`` or ``customer_closed``.
    """

    status = 403

    def __init__(self, customer_status: str) -> None:
        super().__init__(f"This customer profile is {customer_status}. Contact the bank.")
        self.code = f"customer_{customer_status}"


class InsufficientFunds(DomainError):
    status = 409
    code = "insufficient_funds"


class AccountNotAvailable(DomainError):
    """A frozen or closed account, or a closed customer, cannot take part."""

    status = 409
    code = "account_not_available"


class DailyLimitExceeded(InvalidInput):
    """A payment would take the customer's outgoing payments of the UTC day above their
    daily outgoing limit (vaulta/services/payments/daily_limit.py)."""

    code = "daily_limit_exceeded"
