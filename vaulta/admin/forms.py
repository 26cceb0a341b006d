"""Forms of the admin blueprint: the audit-log filters."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from vaulta.forms import FilterForm


class AuditSearchForm(FilterForm):
    """The audit log's filters."""

    actor = StringField("Actor (email or user id)", validators=[Optional(), Length(max=254)])
    action = StringField("Action (or its start)", validators=[Optional(), Length(max=64)])
    object_type = StringField("Object type", validators=[Optional(), Length(max=32)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=64)])
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])


class AuditExportForm(FlaskForm):
    """The period of an audit-chain export (GET: a download, no CSRF); left empty, the
    last 30 days up to today."""

    class Meta:
        csrf = False

    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])
