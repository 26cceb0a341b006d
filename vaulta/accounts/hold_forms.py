"""Forms of staff's hold actions on the account page: place, capture, release.

Amounts are typed in the account's currency with the one amount grammar (``ledger_amount``,
as the deposit form); the expiry is a date and time in UTC. The change request's service
checks everything again (vaulta/services/changes/hold_actions.py): its errors land on the
field they name (``FIELD_OF``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, Field, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from vaulta.accounts.forms import ledger_amount
from vaulta.models import utcnow
from vaulta.models.hold import REASON_MAX
from vaulta.validators import DisplaySafe

# The change request's parameter named by a domain error -> the form's field.
FIELD_OF = {"amount_minor": "amount"}
EXPIRY_FORMAT = "%Y-%m-%dT%H:%M"


class PlaceHoldForm(FlaskForm):
    """Hold an amount of the account until a time, for a reason."""

    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")])
    reason = StringField(
        "Reason",
        validators=[
            DataRequired(message="Give a reason for the hold."),
            Length(max=REASON_MAX, message=f"Keep the reason under {REASON_MAX} characters."),
            DisplaySafe(),
        ],
    )
    expires_at = DateTimeLocalField(
        "Expires at (UTC)",
        format=EXPIRY_FORMAT,
        validators=[InputRequired(message="Give the expiry as a date and time.")],
    )

    def __init__(self, currency: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.amount_minor = 0
        self.amount.render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        self.amount.label.text = f"Amount ({currency})"

    def validate_amount(self, field: Field) -> None:
        self.amount_minor = ledger_amount(field.data, self.currency)

    def validate_expires_at(self, field: Field) -> None:
        if field.data is not None and self.expiry <= utcnow():
            raise ValidationError("The expiry must be in the future.")

    @property
    def expiry(self) -> datetime:
        """The expiry typed, in UTC."""
        assert self.expires_at.data is not None
        return self.expires_at.data.replace(tzinfo=UTC)


class CaptureHoldForm(FlaskForm):
    """Capture a hold: the amount typed (at most what is held), or all of it when empty."""

    amount = StringField("Amount to capture", validators=[Optional()])

    def __init__(self, currency: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.amount_minor: int | None = None
        self.amount.render_kw = {
            "inputmode": "decimal",
            "autocomplete": "off",
            "placeholder": "all of it",
        }
        self.amount.label.text = f"Amount to capture ({currency}; empty: all)"

    def validate_amount(self, field: Field) -> None:
        if (field.data or "").strip():
            self.amount_minor = ledger_amount(field.data, self.currency)


class ReleaseHoldForm(FlaskForm):
    """Release a hold: a button that carries the CSRF token."""


def page_forms(currency: str) -> dict[str, Any]:
    """The account page's hold forms, fresh: place, and the capture and release forms each
    active hold's row shows (``failed_hold_id``: the row whose form is shown again)."""
    return {
        "hold_form": PlaceHoldForm(currency, prefix="hold", formdata=None),
        "capture_form": CaptureHoldForm(currency, prefix="capture", formdata=None),
        "release_form": ReleaseHoldForm(prefix="release", formdata=None),
        "failed_hold_id": None,
    }
