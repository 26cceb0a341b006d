"""The approval policy form: one version's settings, typed as people read them (amounts in
major units of the policy's currency, or of a two-decimal currency when it names none)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional

from vaulta.models import ApprovalPolicy
from vaulta.models.account import ACCOUNT_KINDS
from vaulta.models.change_request import CUMULATIVE_BY, MAX_LEVELS
from vaulta.models.user import STAFF_ROLES
from vaulta.money import CURRENCIES, AmountError, format_plain, parse_amount
from vaulta.services.errors import InvalidInput
from vaulta.validators import DisplaySafe

# Amounts of a policy without a currency compare minor units as they are (2 decimals).
PLAIN_CURRENCY = "EUR"
LEVELS = range(1, MAX_LEVELS + 1)


def _optional(choices: tuple[str, ...], empty: str) -> list[SelectChoice]:
    return [SelectChoice("", empty), *(SelectChoice(c) for c in choices)]


class PolicyForm(FlaskForm):
    description = StringField("Description", validators=[Length(max=200), DisplaySafe()])
    action = SelectField("Action", validate_choice=True)
    priority = IntegerField("Priority (higher wins a tie)", default=0, validators=[NumberRange(0)])
    enabled = BooleanField("Enabled", default=True)
    levels = SelectField("Approvers needed (levels)", choices=[str(n) for n in LEVELS], default="1")
    roles_1 = SelectMultipleField("Level 1: roles who may decide", choices=list(STAFF_ROLES))
    roles_2 = SelectMultipleField("Level 2: roles who may decide", choices=list(STAFF_ROLES))
    roles_3 = SelectMultipleField("Level 3: roles who may decide", choices=list(STAFF_ROLES))
    step_up_1 = BooleanField("Level 1 confirms with a fresh one-time code (step-up)")
    step_up_2 = BooleanField("Level 2 confirms with a fresh one-time code (step-up)")
    step_up_3 = BooleanField("Level 3 confirms with a fresh one-time code (step-up)")
    min_amount = StringField("Applies from the amount", validators=[Optional(), Length(max=32)])
    currency = SelectField("Currency", choices=_optional(CURRENCIES, "any"), default="")
    cumulative_threshold = StringField(
        "Cumulative threshold", validators=[Optional(), Length(max=32)]
    )
    cumulative_window_hours = IntegerField(
        "Cumulative window (hours)", validators=[Optional(), NumberRange(1, 24 * 366)]
    )
    cumulative_by = SelectField(
        "Cumulative sum of the same", choices=_optional(CUMULATIVE_BY, "—"), default=""
    )
    account_kind = SelectField("Account kind", choices=_optional(ACCOUNT_KINDS, "any"), default="")
    bulk_allowed = BooleanField("Bulk approval allowed")

    def __init__(self, actions: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [
            SelectChoice("*", "* (every action)"),
            SelectChoice("money", "money (every money movement)"),
            *(SelectChoice(a) for a in actions),
        ]

    def _amount(self, field: StringField, name: str) -> int | None:
        text = (field.data or "").strip()
        if not text:
            return None
        try:
            return parse_amount(text, self.currency.data or PLAIN_CURRENCY)
        except AmountError as err:
            raise InvalidInput(str(err), field=name) from None

    def fields(self) -> dict[str, Any]:
        """The version's settings for ``policies.update`` (checked again by the service)."""
        levels = int(self.levels.data or 1)
        return {
            "description": self.description.data or "",
            "action": self.action.data,
            "priority": self.priority.data or 0,
            "enabled": bool(self.enabled.data),
            "levels": levels,
            "roles_per_level": [list(self[f"roles_{n}"].data or []) for n in LEVELS][:levels],
            "step_up_levels": [n for n in LEVELS if n <= levels and self[f"step_up_{n}"].data],
            "min_amount_minor": self._amount(self.min_amount, "min_amount"),
            "currency": self.currency.data or None,
            "cumulative_threshold_minor": self._amount(
                self.cumulative_threshold, "cumulative_threshold"
            ),
            "cumulative_window_hours": self.cumulative_window_hours.data,
            "cumulative_by": self.cumulative_by.data or None,
            "account_kind": self.account_kind.data or None,
            "bulk_allowed": bool(self.bulk_allowed.data),
        }


def form_data(policy: ApprovalPolicy | None) -> dict[str, Any]:
    """The form's values for the version in force (a new policy: one approver)."""
    if policy is None:
        return {"enabled": True, "levels": "1", "roles_1": ["approver"], "action": "*"}
    currency = policy.currency or PLAIN_CURRENCY
    data: dict[str, Any] = {
        "description": policy.description,
        "action": policy.action,
        "priority": policy.priority,
        "enabled": policy.enabled,
        "levels": str(policy.levels),
        "min_amount": format_plain(policy.min_amount_minor, currency)
        if policy.min_amount_minor is not None
        else "",
        "currency": policy.currency or "",
        "cumulative_threshold": format_plain(policy.cumulative_threshold_minor, currency)
        if policy.cumulative_threshold_minor is not None
        else "",
        "cumulative_window_hours": policy.cumulative_window_hours,
        "cumulative_by": policy.cumulative_by or "",
        "account_kind": policy.account_kind or "",
        "bulk_allowed": policy.bulk_allowed,
    }
    for n, roles in enumerate(policy.roles_per_level or [], start=1):
        data[f"roles_{n}"] = list(roles)
    for n in policy.step_up_levels or []:
        data[f"step_up_{n}"] = True
    return data
