"""Forms of the accounts blueprint: money in and out, status actions."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, Field, HiddenField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp, ValidationError

from vaulta.models import utcnow
from vaulta.money import AmountError, format_amount, parse_amount, parse_decimal
from vaulta.services.errors import InvalidInput
from vaulta.services.ledger.value_dates import check_value_date
from vaulta.validators import DisplaySafe

DESCRIPTION_MAX = 200


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def ledger_amount(text: str | None, currency: str) -> int:
    """An amount typed in ``currency`` as minor units: the one amount grammar, above zero
    and at most what the ledger posts at once (``LEDGER_MAX_AMOUNT_MINOR``); otherwise a
    ValidationError saying why."""
    try:
        amount_minor = parse_amount(text, currency)
    except AmountError as err:
        raise ValidationError(str(err)) from None
    maximum = int(current_app.config["LEDGER_MAX_AMOUNT_MINOR"])
    if amount_minor > maximum:
        raise ValidationError(
            f"The amount is above the limit of {format_amount(maximum, currency)}."
        )
    return amount_minor


class MoneyForm(FlaskForm):
    """A deposit or a withdrawal: an amount typed in the account's currency.

    Each rendered form carries a fresh one-time key, so a double submit posts once. A
    valid submit is shown for confirmation first (ConfirmMoneyForm), never posted at once.
    """

    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")])
    description = StringField(
        "Description",
        validators=[
            DataRequired(message="Enter a description."),
            Length(max=DESCRIPTION_MAX),
            DisplaySafe(),
        ],
    )
    value_date = DateField(
        "Value date (optional)",
        validators=[Optional()],
        description="Leave empty for today (UTC); at most LEDGER_BACKDATE_DAYS days back.",
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
        """The one amount grammar, and at most what the ledger posts at once, so that the
        confirmation never shows an amount the ledger would refuse."""
        self.amount_minor = ledger_amount(field.data, self.currency)

    def validate_value_date(self, field: Field) -> None:
        """Today (UTC) or up to ``LEDGER_BACKDATE_DAYS`` back (checked again when the
        request is made and when it is executed)."""
        if field.data is None:
            return
        days = int(current_app.config["LEDGER_BACKDATE_DAYS"])
        try:
            check_value_date(field.data, today=utcnow().date(), backdate_days=days)
        except InvalidInput as err:
            raise ValidationError(err.message) from None


class ConfirmMoneyForm(FlaskForm):
    """The confirmation step of a deposit or withdrawal: the signed movement (see
    vaulta/accounts/confirmation.py) and the button pressed, Confirm or Change."""

    confirmation = HiddenField(validators=[DataRequired(message="Enter the amount again.")])
    step = StringField(validators=[AnyOf(("confirm", "change"))])  # the button's value


class StatusForm(FlaskForm):
    """Freeze, unfreeze or close: an optional reason for the audit log."""

    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class OverdraftForm(FlaskForm):
    """A new overdraft limit typed in the account's currency; 0 removes it."""

    limit = StringField("Overdraft limit", validators=[DataRequired(message="Enter a limit.")])

    def __init__(self, currency: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.limit_minor = 0
        self.limit.render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        self.limit.label.text = f"Overdraft limit ({currency}; 0: none)"

    def validate_limit(self, field: Field) -> None:
        try:
            zero = parse_decimal(field.data) == 0
            self.limit_minor = 0 if zero else parse_amount(field.data, self.currency)
        except AmountError as err:
            raise ValidationError(str(err)) from None
