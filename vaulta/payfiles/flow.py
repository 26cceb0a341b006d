"""The upload → preview → submit steps of a payment file, shared by the staff's pages
(any customer's account) and the customer's own (their accounts only): the same form,
size limits, checks and signed confirmation; only the URLs and the wording differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app
from markupsafe import Markup
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user
from vaulta.models import Account, ChangeRequest
from vaulta.payfiles import upload_token
from vaulta.payfiles.forms import SubmitForm, UploadForm
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.payments import batch_files, batch_uploads
from vaulta.services.payments.batch_actions import BATCH
from vaulta.web import render


@dataclass(frozen=True)
class FileUrls:
    """Where the pages of one account's upload post to and link to."""

    new: str
    preview: str
    submit: str


@dataclass(frozen=True)
class Wording:
    """How the submit step answers: the notice once the request is made (and the URL of
    its batch page), and a refusal's message."""

    made: Callable[[ChangeRequest], tuple[str | Markup, str]]
    refused: Callable[[DomainError], str | Markup]


def upload_page(
    form: UploadForm, account: Account, urls: FileUrls, status: int, error: str | None = None
) -> Response:
    return render(
        "payfiles/upload.html",
        "payfiles/_upload_form.html",
        form=form,
        account=account,
        file_urls=urls,
        error=error,
        columns=batch_files.CSV_COLUMNS,
        max_bytes=current_app.config["PAYMENT_FILE_MAX_BYTES"],
        max_lines=current_app.config["PAYMENT_FILE_MAX_LINES"],
        status=status,
    )


def preview(account: Account, urls: FileUrls) -> Response:
    """Check every line of the uploaded file (nothing made; the upload is audited)."""
    form = UploadForm()
    if not form.validate_on_submit():
        return upload_page(form, account, urls, 422)
    upload = form.file.data
    data = upload.read(current_app.config["PAYMENT_FILE_MAX_BYTES"] + 1)
    actor = acting_user()
    try:
        checked = batch_uploads.preview(account.id, data, upload.filename or "", actor=actor)
    except InvalidInput as err:
        return upload_page(form, account, urls, 422, error=err.message)
    token = None
    if checked.valid:
        token = upload_token.sign(account.id, actor.id, checked.file_name, data.decode("utf-8-sig"))
    return render(
        "payfiles/preview.html",
        "payfiles/_preview.html",
        account=account,
        checked=checked,
        file_urls=urls,
        form=SubmitForm(token=token),
        has_token=token is not None,
    )


def submit(account: Account, urls: FileUrls, wording: Wording) -> Response:
    """The previewed file (its signed token) becomes one ``payments.batch`` request."""
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    actor = acting_user()
    try:
        upload = upload_token.load(form.token.data or "", account_id=account.id, actor_id=actor.id)
    except upload_token.UploadInvalid as err:
        return upload_page(UploadForm(), account, urls, 422, error=str(err))
    try:
        made = change_requests.submit(
            BATCH,
            {"account_id": account.id, "file_name": upload.file_name, "content": upload.content},
            actor=actor,
            idempotency_key=upload.key,
        )
    except DomainError as err:
        return _submitted(account, urls, wording.refused(err), None, err.status)
    message, batch_url = wording.made(made)
    return _submitted(account, urls, message, batch_url, 201)


def _submitted(
    account: Account, urls: FileUrls, message: str | Markup, batch_url: str | None, status: int
) -> Response:
    return render(
        "payfiles/submitted.html",
        "payfiles/_submitted.html",
        account=account,
        file_urls=urls,
        message=message,
        batch_url=batch_url,
        status=status,
    )
