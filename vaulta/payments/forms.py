"""Forms of the payments blueprint: a payment request, its confirmation code, and buttons."""

from __future__ import annotations

import uuid
from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from vaulta.models import Account
from vaulta.money import format_amount
from vaulta.services.payments.payment_creation import PaymentOrder
from vaulta.validators import DisplaySafe

# Fields checked one at a time while the customer types (htmx), in form order.
LIVE_FIELDS = (
    "from_account",
    "to_account",
    "beneficiary_name",
    "beneficiary_iban",
    "beneficiary_bic",
    "amount",
)


def new_form_token() -> str:
    return str(uuid.uuid4())


class PaymentForm(FlaskForm):
    """Pay from one of the customer's accounts to a VAULTA account or an external IBAN.

    Rules that need the database or a registry (ownership, currency, IBAN check digits,
    BIC country) are the service's; it names the field when one fails.
    """

    from_account = SelectField("From account", validators=[DataRequired()])
    to_account = StringField("VAULTA account number", validators=[Optional(), Length(max=20)])
    beneficiary_name = StringField(
        "Beneficiary name", validators=[Optional(), Length(max=140), DisplaySafe()]
    )
    beneficiary_iban = StringField("IBAN", validators=[Optional(), Length(max=50)])
    beneficiary_bic = StringField("BIC (optional)", validators=[Optional(), Length(max=20)])
    amount = StringField("Amount", validators=[DataRequired(message="Enter an amount.")])
    reference = StringField(
        "Reference",
        validators=[DataRequired(message="Enter a reference."), Length(max=140), DisplaySafe()],
    )
    idempotency_key = HiddenField(
        validators=[
            DataRequired(message="Reload the page and try again."),
            Length(max=64, message="Reload the page and try again."),
        ],
        default=new_form_token,
    )

    def __init__(self, accounts: list[Account], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.from_account.choices = [
            SelectChoice(a.number, f"{a.number} · {format_amount(a.balance_minor, a.currency)}")
            for a in accounts
        ]
        self.amount.render_kw = {"inputmode": "decimal", "autocomplete": "off"}
        self.beneficiary_iban.render_kw = {"autocomplete": "off", "spellcheck": "false"}
        self.beneficiary_bic.render_kw = {"autocomplete": "off", "spellcheck": "false"}

    def service_fields(self) -> dict[str, str]:
        return {
            name: (getattr(self, name).data or "")
            for name in (*LIVE_FIELDS, "reference", "idempotency_key")
        }

    def payment_order(self) -> PaymentOrder:
        """The fields as the order ``payment_creation.check_order`` checks (staff forms)."""

        def text(name: str) -> str:
            return str(getattr(self, name).data or "")

        return PaymentOrder(
            from_account=text("from_account"),
            reference=text("reference"),
            amount=text("amount"),
            to_account=text("to_account"),
            beneficiary_name=text("beneficiary_name"),
            beneficiary_iban=text("beneficiary_iban"),
            beneficiary_bic=text("beneficiary_bic"),
        )


class ConfirmForm(FlaskForm):
    code = StringField(
        "Code from the email",
        validators=[
            DataRequired(message="Enter the 6-digit code."),
            Regexp(r"^\s*\d{6}\s*$", message="The code has 6 digits."),
        ],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )


class ButtonForm(FlaskForm):
    """Carries the CSRF token of a one-button form (cancel, send a new code)."""
