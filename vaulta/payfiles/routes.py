"""Payment-file pages (staff with ``payments.request``; the batch page for readers).

- ``new``: the upload form for a customer's account;
- ``preview`` (multipart): every line checked (``batch_lines.check_file``), valid and
  invalid lines with their reasons, totals; nothing is created (the upload is audited);
- ``submit``: the previewed file (a signed token) becomes one ``payments.batch`` change
  request; answers "Request #N awaits approval";
- ``batch``: every line of a batch and what became of it.
"""

from __future__ import annotations

from flask import abort, current_app
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.models import Account
from vaulta.payfiles import bp, upload_token
from vaulta.payfiles.forms import SubmitForm, UploadForm
from vaulta.services.changes import change_requests
from vaulta.services.errors import DomainError, InvalidInput, NotFound
from vaulta.services.payments import batch_files, batch_lines, batch_queries, batch_uploads
from vaulta.services.payments.batch_actions import BATCH
from vaulta.web import awaiting_approval, refusal, render


def _account(account_id: int) -> Account:
    try:
        return batch_lines.batch_account(account_id)
    except NotFound:
        abort(404)


def _upload_page(
    form: UploadForm, account_id: int, status: int, error: str | None = None
) -> Response:
    return render(
        "payfiles/upload.html",
        "payfiles/_upload_form.html",
        form=form,
        account=_account(account_id),
        error=error,
        columns=batch_files.CSV_COLUMNS,
        max_bytes=current_app.config["PAYMENT_FILE_MAX_BYTES"],
        max_lines=current_app.config["PAYMENT_FILE_MAX_LINES"],
        status=status,
    )


@bp.route("/accounts/<int:account_id>/payment-files")
@require_permission("payments.request")
def new(account_id: int) -> Response:
    return _upload_page(UploadForm(), account_id, 200)


@bp.route("/accounts/<int:account_id>/payment-files/preview", methods=["POST"])
@require_permission("payments.request")
def preview(account_id: int) -> Response:
    account = _account(account_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, account_id, 422)
    upload = form.file.data
    data = upload.read(current_app.config["PAYMENT_FILE_MAX_BYTES"] + 1)
    try:
        checked = batch_uploads.preview(
            account.id, data, upload.filename or "", actor=acting_user()
        )
    except InvalidInput as err:
        return _upload_page(form, account_id, 422, error=err.message)
    token = None
    if checked.valid:
        token = upload_token.sign(
            account.id, acting_user().id, checked.file_name, data.decode("utf-8-sig")
        )
    return render(
        "payfiles/preview.html",
        "payfiles/_preview.html",
        account=account,
        checked=checked,
        form=SubmitForm(token=token),
        has_token=token is not None,
    )


@bp.route("/accounts/<int:account_id>/payment-files/submit", methods=["POST"])
@require_permission("payments.request")
def submit(account_id: int) -> Response:
    account = _account(account_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    actor = acting_user()
    try:
        upload = upload_token.load(form.token.data or "", account_id=account.id, actor_id=actor.id)
    except upload_token.UploadInvalid as err:
        return _upload_page(UploadForm(), account_id, 422, error=str(err))
    try:
        made = change_requests.submit(
            BATCH,
            {"account_id": account.id, "file_name": upload.file_name, "content": upload.content},
            actor=actor,
            idempotency_key=upload.key,
        )
    except DomainError as err:
        return render(
            "payfiles/submitted.html",
            "payfiles/_submitted.html",
            account=account,
            message=refusal(err),
            status=err.status,
        )
    return render(
        "payfiles/submitted.html",
        "payfiles/_submitted.html",
        account=account,
        message=awaiting_approval(made),
        batch_id=made.id,
        status=201,
    )


@bp.route("/payment-batches/<int:batch_id>")
@require_permission("payments.read")
def batch(batch_id: int) -> Response:
    try:
        found = batch_queries.batch(batch_id)
    except NotFound:
        abort(404)
    return render("payfiles/batch.html", batch=found)
