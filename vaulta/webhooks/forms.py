"""Forms of the webhook pages. URL and event-type rules live in the service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    SelectMultipleField,
    StringField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from vaulta.services.events.payloads import EVENT_TYPES
from vaulta.services.webhooks.endpoints import ALL_EVENTS, ROTATION_GRACE_MAX_HOURS
from vaulta.validators import DisplaySafe


def event_type_choices() -> list[SelectChoice]:
    """Every event (``*``), each family (``payment.*``), then each type."""
    families = sorted({name.split(".", 1)[0] + ".*" for name in EVENT_TYPES})
    return [
        SelectChoice(ALL_EVENTS, "every event"),
        *(SelectChoice(value) for value in (*families, *sorted(EVENT_TYPES))),
    ]


class EndpointForm(FlaskForm):
    url = URLField("URL", validators=[DataRequired("Enter the endpoint's URL."), Length(max=2000)])
    event_types = SelectMultipleField(
        "Event types",
        choices=event_type_choices(),
        validators=[DataRequired("Choose at least one event type.")],
    )
    description = StringField(
        "Description", validators=[Optional(), Length(max=200), DisplaySafe()]
    )
    enabled = BooleanField("Enabled", default=True)


class RotateForm(FlaskForm):
    grace_hours = IntegerField(
        "Old secret keeps signing for (hours)",
        default=24,
        validators=[NumberRange(0, ROTATION_GRACE_MAX_HOURS)],
    )


class ReplaySinceForm(FlaskForm):
    since = DateTimeLocalField(
        "Replay every event since (UTC)", validators=[DataRequired()], format="%Y-%m-%dT%H:%M"
    )


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (delete, replay one delivery)."""
