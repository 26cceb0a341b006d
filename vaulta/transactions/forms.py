"""Forms of the transactions blueprint: the search filters and the reversal."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from vaulta.forms import FilterForm
from vaulta.models.transaction import TRANSACTION_KINDS
from vaulta.money import CURRENCIES, AmountError, parse_amount
from vaulta.services.ledger.transaction_search import TransactionFilters
from vaulta.validators import DisplaySafe

ANY = [SelectChoice("", "Any")]


class TransactionSearchForm(FilterForm):
    """The transaction search's filters; amounts are read in the chosen currency."""

    account = StringField("Account number", validators=[Optional(), Length(max=12)])
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])
    min_amount = StringField("Min amount", validators=[Optional(), Length(max=24)])
    max_amount = StringField("Max amount", validators=[Optional(), Length(max=24)])
    currency = SelectField(
        "Currency", choices=[*ANY, *(SelectChoice(c) for c in CURRENCIES)], default=""
    )
    kind = SelectField(
        "Kind", choices=[*ANY, *(SelectChoice(k) for k in TRANSACTION_KINDS)], default=""
    )
    text = StringField("Description contains", validators=[Optional(), Length(max=200)])

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then amounts parsed in the chosen currency (which they require)."""
        valid = super().validate(extra_validators)
        self.min_amount_minor = self._amount(self.min_amount)
        self.max_amount_minor = self._amount(self.max_amount)
        return valid and not self.errors

    def _amount(self, field: StringField) -> int | None:
        if not (field.data or "").strip():
            return None
        if not self.currency.data:
            if not self.currency.errors:
                self.currency.errors.append("Choose a currency to search by amount.")
            return None
        try:
            return parse_amount(field.data, self.currency.data)
        except AmountError as err:
            field.errors.append(str(err))
            return None

    def filters(self) -> TransactionFilters:
        """The validated filters for the search service."""
        return TransactionFilters(
            account_number=(self.account.data or "").strip() or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            min_amount_minor=self.min_amount_minor,
            max_amount_minor=self.max_amount_minor,
            kind=self.kind.data or None,
            currency=self.currency.data or None,
            text=(self.text.data or "").strip() or None,
        )


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        "Reason for the reversal",
        validators=[
            DataRequired("Give a reason for the reversal."),
            Length(max=150),
            DisplaySafe(),
        ],
    )
