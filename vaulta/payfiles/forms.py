"""Forms of the payment-file pages: the upload (multipart) and the confirmation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField


class UploadForm(FlaskForm):
    file = FileField("Payment file (CSV or pain.001.001.09 XML)", [FileRequired("Choose a file.")])


class SubmitForm(FlaskForm):
    token = HiddenField()
