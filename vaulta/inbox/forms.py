"""Forms of the inbox: its filters, one decision, a bulk approval."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from vaulta.forms import FilterForm
from vaulta.money import CURRENCIES
from vaulta.validators import DisplaySafe

ANY = SelectChoice("", "Any")
# "Waiting at least …": the age filter's choices and what each means.
AGES: dict[str, tuple[str, timedelta]] = {
    "1h": ("1 hour", timedelta(hours=1)),
    "24h": ("24 hours", timedelta(hours=24)),
    "3d": ("3 days", timedelta(days=3)),
}


class InboxFilters(FilterForm):
    """The inbox's GET filters. Amounts are read in the chosen currency (which they need),
    the customer and the maker are looked up by the view (vaulta/inbox/routes.py)."""

    action = SelectField("Action", choices=[ANY], default="")
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
