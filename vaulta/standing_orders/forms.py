"""The standing-order form: the payment form's fields (vaulta/payments/forms.py) and when."""

from __future__ import annotations

from typing import Any

from wtforms import DateField, IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional

from vaulta.payments.forms import PaymentForm
from vaulta.services.standing_orders import Schedule
from vaulta.services.standing_orders.orders import MAX_RUNS


class StandingOrderForm(PaymentForm):
    """A recurring payment. Ownership, currency, IBAN and dates are the service's checks."""

    idempotency_key = None  # type: ignore[assignment]  # not a one-off request
    frequency = SelectField(
        "Every",
        choices=[SelectChoice("monthly", "month"), SelectChoice("weekly", "week")],
        default="monthly",
    )
    first_date = DateField("First payment on", validators=[DataRequired("Enter a date.")])
    end_date = DateField("Last payment on or before (optional)", validators=[Optional()])
    max_runs = IntegerField(
        "Number of payments (optional)",
        validators=[Optional(), NumberRange(1, MAX_RUNS, f"From 1 to {MAX_RUNS}.")],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_runs.render_kw = {"inputmode": "numeric", "min": 1, "max": MAX_RUNS}

    def plan(self) -> Schedule:
        return Schedule(
            self.frequency.data or "",
            self.first_date.data,
            self.end_date.data,
            self.max_runs.data,
        )
