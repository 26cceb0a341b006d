"""Forms of the admin blueprint: the audit-log and FX-rate filters, staff roles and staff API
keys."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from vaulta.forms import FilterForm
from vaulta.models.user import STAFF_ROLES
from vaulta.money import CURRENCIES
from vaulta.validators import DisplaySafe


class AuditSearchForm(FilterForm):
    """The audit log's filters."""

    actor = StringField("Actor (email or user id)", validators=[Optional(), Length(max=254)])
    action = StringField("Action (or its start)", validators=[Optional(), Length(max=64)])
    object_type = StringField("Object type", validators=[Optional(), Length(max=32)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=64)])
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])


class FxRatesFilterForm(FilterForm):
    """The FX rates page's filters: base and quote currency (any when empty)."""

    base = SelectField(
        "Base",
        choices=[SelectChoice("", "Any"), *(SelectChoice(c) for c in CURRENCIES)],
        validators=[Optional()],
    )
    quote = SelectField(
        "Quote",
        choices=[SelectChoice("", "Any"), *(SelectChoice(c) for c in CURRENCIES)],
        validators=[Optional()],
    )


class AuditExportForm(FlaskForm):
    """The period of an audit-chain export (GET: a download, no CSRF); left empty, the
    last 30 days up to today."""

    class Meta:
        csrf = False

    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])


class RoleForm(FlaskForm):
    """The role to grant to (or remove from) a staff login."""

    role = SelectField("Role", choices=[SelectChoice(r) for r in STAFF_ROLES], validate_choice=True)


class StaffKeyForm(FlaskForm):
    """A staff API key to ask for: its name and scopes (``read`` or permission names)."""

    name = StringField(
        "Key name", validators=[DataRequired("Name the key."), Length(max=100), DisplaySafe()]
    )
    scopes = StringField(
        "Scopes (space-separated: read, or permission names)",
        default="read",
        validators=[DataRequired("Choose at least one scope."), Length(max=200)],
    )
