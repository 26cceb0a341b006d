"""Forms of the inbox: its filters, one decision, a bulk approval."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from vaulta.forms import FilterForm
from vaulta.money import CURRENCIES, AmountError, parse_decimal
from vaulta.validators import DisplaySafe

ANY = SelectChoice("", "Any")
# "Waiting at least …": the age filter's choices and what each means.
AGES: dict[str, tuple[str, timedelta]] = {
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
    "3d": ("3 days", timedelta(days=3)),
}


class InboxFilters(FilterForm):
    """The inbox's GET filters. Amounts are major units compared in the request's own
    currency (``min_amount``/``max_amount`` as Decimals once validated)."""

    action = SelectField("Action", choices=[ANY], default="", validate_choice=False)
    min_amount = StringField("Min amount", validators=[Optional(), Length(max=24)])
    max_amount = StringField("Max amount", validators=[Optional(), Length(max=24)])
    currency = SelectField(
        "Currency", choices=[ANY, *(SelectChoice(c) for c in CURRENCIES)], default=""
    )
    customer = StringField("Customer", validators=[Optional(), Length(max=200)])
    maker = StringField("Maker", validators=[Optional(), Length(max=254)])
    age = SelectField(
        "Waiting at least",
        choices=[ANY, *(SelectChoice(k, label) for k, (label, _d) in AGES.items())],
        default="",
    )

    def __init__(self, *args: Any, actions: dict[str, str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.action.choices = [ANY, *(SelectChoice(k, v) for k, v in (actions or {}).items())]
        self.low: Decimal | None = None
        self.high: Decimal | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.action.data and self.action.data not in dict(self.action.choices or []):
            self.action.errors = ["Choose an action from the list."]
        self.low = self._amount(self.min_amount)
        self.high = self._amount(self.max_amount)
        return valid and not self.errors

    def _amount(self, field: StringField) -> Decimal | None:
        text = (field.data or "").strip()
        if not text:
            return None
        try:
            return parse_decimal(text)
        except AmountError as err:
            field.errors = [*field.errors, str(err)]
            return None

    @property
    def min_age(self) -> timedelta | None:
        chosen = AGES.get(self.age.data or "")
        return chosen[1] if chosen else None


class DecisionForm(FlaskForm):
    """Approve (with a step-up code when the level asks for one) or reject (a reason)."""

    code = StringField(
        "Approval code",
        validators=[Optional(), Regexp(r"^\s*\d{6}\s*$", message="The code has 6 digits.")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=500), DisplaySafe()])


class PlainForm(FlaskForm):
    """A button that only needs its CSRF token (cancel, send a code, bulk approve)."""
