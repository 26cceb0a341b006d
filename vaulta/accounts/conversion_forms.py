"""The customer's conversion form (account page): the account to convert into and the
amount, then the quote to confirm."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from vaulta.models import Account
from vaulta.money import AmountError, parse_amount


class ConversionForm(FlaskForm):
    """Convert an amount of this account's currency into another of the customer's accounts."""

    to_account = SelectField("Into account", validate_choice=True)
    amount = StringField(
        "Amount to convert", validators=[DataRequired("Enter an amount."), Length(max=40)]
    )

    def __init__(self, source: Account, targets: list[Account], **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.to_account.choices = [
            SelectChoice(a.number, f"{a.number} ({a.currency})") for a in targets
        ]

    def amount_minor(self) -> int | None:
        """The amount in minor units of the source's currency; the error on the field."""
        try:
            return parse_amount(self.amount.data, self.source.currency)
        except AmountError as err:
            self.amount.errors = [*self.amount.errors, str(err)]
            return None


class ConfirmConversionForm(FlaskForm):
    """Confirm a quote (within its validity)."""

    quote_id = HiddenField(
        validators=[DataRequired("Ask for a quote first."), Regexp(r"^fxq_[A-Za-z0-9_-]{8,36}$")]
    )
