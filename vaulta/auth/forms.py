"""Sign-in, second factor, password change and API key forms."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from vaulta.services.identity.api_keys import NAME_MAX_LENGTH, SCOPES
from vaulta.services.identity.password_policy import MAX_LENGTH, MIN_LENGTH
from vaulta.validators import DisplaySafe

SCOPE_LABELS = {"read": "read — accounts and payments", "payments:write": "payments:write"}


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


class LogoutForm(FlaskForm):
    """Empty: carries the CSRF token of the sign-out button."""


class ButtonForm(FlaskForm):
    """Empty: carries the CSRF token of a one-button form."""


class SecondFactorForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=32)])


class CredentialForm(FlaskForm):
    credential = PasswordField(
        "A current code from your app, or your password",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
    )


class PasswordConfirmForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(), Length(max=MAX_LENGTH)])


class NewPasswordForm(FlaskForm):
    """A new password, typed twice (its policy is checked by the service)."""

    new_password = PasswordField(
        f"New password (at least {MIN_LENGTH} characters; a long phrase is best)",
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
    )
    confirm_password = PasswordField(
        "New password again",
        validators=[DataRequired(), EqualTo("new_password", message="The passwords differ.")],
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)]
    )


class ScopesField(SelectMultipleField):
    """Checkboxes, one per scope."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ApiKeyForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired(), Length(max=NAME_MAX_LENGTH), DisplaySafe()]
    )
    scopes = ScopesField(
        "Scopes",
        choices=[SelectChoice(s, SCOPE_LABELS.get(s, s)) for s in SCOPES],
        default=["read"],
        validators=[DataRequired(message="Choose at least one scope.")],
    )
    expires_on = DateField("Expires after (optional)", validators=[Optional()])

    def expires_at(self) -> datetime | None:
        """The end of the chosen day (UTC): the key works through that date."""
        if self.expires_on.data is None:
            return None
        return datetime.combine(self.expires_on.data + timedelta(days=1), time.min, tzinfo=UTC)


class ResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class ResetConfirmForm(NewPasswordForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    code = StringField("Code from the email", validators=[DataRequired(), Length(max=32)])
