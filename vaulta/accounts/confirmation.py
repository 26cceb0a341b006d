"""The confirmation step of a deposit or withdrawal, carried in one signed token.

The first POST checks the form and shows the movement exactly as it will be posted: the
amount with its currency, the account and the description, with Confirm and Change. What
it shows travels as a token signed with the app's SECRET_KEY (itsdangerous, a salt of its
own): the Confirm POST posts the token's values, never re-typed ones, so a confirmation
cannot be edited into another amount, account, action or description. The token names
the admin who saw it (another login cannot use it) and expires after
``MAX_AGE_SECONDS``; its one-time key makes a double confirm post once.

This lives in the route layer on purpose: whatever later decides a movement (four-eyes
change requests), the person who typed it first sees what they asked for.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "vaulta.accounts.money-confirmation"
MAX_AGE_SECONDS = 15 * 60
EXPIRED = "This confirmation has expired or is not valid. Enter the amount again."


class ConfirmationInvalid(ValueError):
    """The token is forged, expired, or was made for another account, action or admin."""


@dataclass(frozen=True)
class PendingMovement:
    """A checked deposit or withdrawal waiting for its maker's confirmation."""

    account_id: int
    action: str  # "deposit" or "withdraw"
    amount_minor: int
    currency: str
    description: str
    idempotency_key: str
    actor_id: int
    value_date: str | None = None  # YYYY-MM-DD, or None: the day it is posted


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)  # type: ignore[arg-type]


def sign(movement: PendingMovement) -> str:
    return str(_serializer().dumps(list(astuple(movement))))


def load(
    token: str, *, account_id: int, action: str, currency: str, actor_id: int
) -> PendingMovement:
    """The movement ``token`` carries, when it was made for this account, action, currency
    and admin within ``MAX_AGE_SECONDS``; otherwise ConfirmationInvalid."""
    try:
        values = _serializer().loads(token or "", max_age=MAX_AGE_SECONDS)
        movement = PendingMovement(*values)
    except (BadData, TypeError):
        raise ConfirmationInvalid(EXPIRED) from None
    expected = (account_id, action, currency, actor_id)
    if (movement.account_id, movement.action, movement.currency, movement.actor_id) != expected:
        raise ConfirmationInvalid(EXPIRED)
    if type(movement.amount_minor) is not int or movement.amount_minor <= 0:
        raise ConfirmationInvalid(EXPIRED)
    if movement.value_date is not None and not isinstance(movement.value_date, str):
        raise ConfirmationInvalid(EXPIRED)
    return movement
