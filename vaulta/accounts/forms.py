"""Forms of the accounts blueprint: money in and out, status actions."""

from __future__ import annotations

import uuid
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from vaulta.money import AmountError, parse_amount

DESCRIPTION_MAX = 200


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class MoneyForm(FlaskForm):
    """A deposit or a withdrawal: an amount typed in the account's currency.

    Each rendered form carries a fresh one-time key, so a double submit posts once.
    """

    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")])
    description = StringField(
        "Description",
        validators=[DataRequired(message="Enter a description."), Length(max=DESCRIPTION_MAX)],
    )
    idempotency_key = HiddenField(
        validators=[
            DataRequired(message="Reload the page and try again."),
            Regexp(r"^[0-9a-f]{32}$", message="Reload the page and try again."),
        ],
        default=new_idempotency_key,
    )

    def __init__(self, currency: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.amount_minor = 0
        self.amount.render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        self.amount.label.text = f"Amount ({currency})"

    def validate_amount(self, field: Field) -> None:
        try:
            self.amount_minor = parse_amount(field.data, self.currency)
        except AmountError as err:
            raise ValidationError(str(err)) from None


class StatusForm(FlaskForm):
    """Freeze, unfreeze or close: an optional reason for the audit log."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])
