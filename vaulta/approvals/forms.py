"""Forms of the approvals blueprint: queue filters, one decision, a bulk decision."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, Regexp

from vaulta.money import CURRENCIES
from vaulta.validators import DisplaySafe

SORT_CHOICES = (
    SelectChoice("oldest", "Oldest first"),
    SelectChoice("newest", "Newest first"),
    SelectChoice("amount_desc", "Largest amount"),
    SelectChoice("amount_asc", "Smallest amount"),
    SelectChoice("customer", "Customer name"),
)
CURRENCY_CHOICES = (SelectChoice("", "Any"), *(SelectChoice(c) for c in CURRENCIES))


@dataclass
class FilterField:
    """One field of the queue's filters, as approvals/_fields.html writes it."""

    name: str
    label: str
    data: str = ""
    maxlength: int | None = None
    choices: tuple[SelectChoice, ...] = ()
    errors: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.name


class QueueFilters:
    """The queue's GET filters, read from the query string (no CSRF: reading only).

    A plain object, not a WTForms form: the page builds it on every view, and binding six
    WTForms fields cost more than reading the page's rows. Nothing is validated here; the
    service refuses an amount it cannot read (InvalidInput naming the field), and the view
    puts that message on the field.
    """

    def __init__(self, args: Mapping[str, str] | None = None) -> None:
        args = args or {}
        self.currency = FilterField(
            "currency", "Currency", args.get("currency", ""), None, CURRENCY_CHOICES
        )
        self.min_amount = FilterField("min_amount", "Min amount", args.get("min_amount", ""), 20)
        self.max_amount = FilterField("max_amount", "Max amount", args.get("max_amount", ""), 20)
        self.customer = FilterField("customer", "Customer", args.get("customer", ""), 200)
        self.sort = FilterField("sort", "Sort", args.get("sort", "oldest"), None, SORT_CHOICES)
        self.after = FilterField("after", "After", args.get("after", ""), 20)  # keyset: next page

    def __iter__(self) -> Iterator[FilterField]:
        yield from (
            self.currency,
            self.min_amount,
            self.max_amount,
            self.customer,
            self.sort,
            self.after,
        )


class DecisionForm(FlaskForm):
    """Approve (with a step-up code when asked) or reject (with a reason)."""

    code = StringField(
        "Approval code",
        validators=[Optional(), Regexp(r"^\s*\d{6}\s*$", message="The code has 6 digits.")],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=500), DisplaySafe()])


class BulkForm(FlaskForm):
    """The selected rows (``payment_ids`` checkboxes) and what to do with them."""

    action = SelectField(
        "With selected",
        choices=[SelectChoice("approve", "Approve"), SelectChoice("reject", "Reject")],
    )
    reason = StringField(
        "Reason (for rejections)", validators=[Optional(), Length(max=500), DisplaySafe()]
    )
