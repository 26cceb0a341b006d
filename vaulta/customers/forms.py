"""Forms of the customers pages. Shape checks (email, phone) live in the service."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField, TelField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from vaulta.money import CURRENCIES
from vaulta.validators import DisplaySafe


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class CustomerForm(FlaskForm):
    full_name = StringField(
        "Full name",
        filters=[_strip],
        validators=[
            DataRequired("Enter the customer's full name."),
            Length(max=200),
            DisplaySafe(),
        ],
    )
    email = EmailField("Email", filters=[_strip], validators=[Optional(), Length(max=254)])
    phone = TelField("Phone", filters=[_strip], validators=[Optional(), Length(max=32)])
    address = TextAreaField(
        "Address", filters=[_strip], validators=[Optional(), Length(max=500), DisplaySafe()]
    )


class OpenAccountForm(FlaskForm):
    currency = SelectField(
        "Currency",
        choices=[SelectChoice(code) for code in CURRENCIES],
        default="EUR",
        validate_choice=True,
    )


class DailyLimitForm(FlaskForm):
    """A customer's daily outgoing limit in minor units, applied in each currency; blank
    removes it."""

    limit = StringField(
        "Daily outgoing limit (minor units per currency; blank: no limit)",
        filters=[_strip],
        validators=[
            Optional(),
            Regexp(r"^[0-9]{1,18}$", message="Enter a whole number of minor units."),
        ],
    )

    @property
    def limit_minor(self) -> int | None:
        return int(self.limit.data) if self.limit.data else None
