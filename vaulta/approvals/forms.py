"""Forms of the approvals blueprint: queue filters, one decision, a bulk decision."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from vaulta.money import CURRENCIES

SORT_CHOICES = [
    SelectChoice("oldest", "Oldest first"),
    SelectChoice("newest", "Newest first"),
    SelectChoice("amount_desc", "Largest amount"),
    SelectChoice("amount_asc", "Smallest amount"),
    SelectChoice("customer", "Customer name"),
]


class QueueFilterForm(FlaskForm):
    """GET filters of the queue (no CSRF: reading only)."""

    class Meta:
        csrf = False

    currency = SelectField(
        "Currency", choices=[SelectChoice("", "Any"), *(SelectChoice(c) for c in CURRENCIES)]
    )
    min_amount = StringField("Min amount", validators=[Optional(), Length(max=20)])
    max_amount = StringField("Max amount", validators=[Optional(), Length(max=20)])
    customer = StringField("Customer", validators=[Optional(), Length(max=200)])
    sort = SelectField("Sort", choices=SORT_CHOICES, default="oldest")
    after = StringField("After", validators=[Optional(), Length(max=20)])  # keyset: next page


class DecisionForm(FlaskForm):
    """Approve (with a step-up code when asked) or reject (with a reason)."""

    code = StringField(
        "Approval code",
        validators=[Optional(), Regexp(r"^\s*\d{6}\s*$", message="The code has 6 digits.")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=500)])


class BulkForm(FlaskForm):
    """The selected rows (``payment_ids`` checkboxes) and what to do with them."""

    action = SelectField(
        "With selected",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("reject", "Reject")],
    )
    reason = StringField("Reason (for rejections)", validators=[Optional(), Length(max=500)])
