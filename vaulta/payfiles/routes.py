"""Payment-file pages for staff (``payments.request``; the batch page for readers).

- ``new``: the upload form for a customer's account;
- ``preview`` (multipart): every line checked (``batch_lines.check_file``), valid and
  invalid lines with their reasons, totals; nothing is created (the upload is audited);
- ``submit``: the previewed file (a signed token) becomes one ``payments.batch`` change
  request; answers "Request #N awaits approval";
- ``batch``: every line of a batch and what became of it.

The steps are vaulta/payfiles/flow.py, shared with the customer's own pages
(vaulta/payfiles/customer_routes.py).
"""

from __future__ import annotations

from flask import abort, url_for
from werkzeug.wrappers import Response

from vaulta.auth.access import require_permission
from vaulta.models import Account, ChangeRequest
from vaulta.payfiles import bp, flow
from vaulta.payfiles.forms import UploadForm
from vaulta.services.errors import NotFound
from vaulta.services.payments import batch_lines, batch_queries
from vaulta.web import awaiting_approval, refusal, render


def _account(account_id: int) -> Account:
    try:
        return batch_lines.batch_account(account_id)
    except NotFound:
        abort(404)


def _urls(account_id: int) -> flow.FileUrls:
    return flow.FileUrls(
        new=url_for("payfiles.new", account_id=account_id),
        preview=url_for("payfiles.preview", account_id=account_id),
        submit=url_for("payfiles.submit", account_id=account_id),
    )


def _made(made: ChangeRequest) -> tuple[str, str]:
    return awaiting_approval(made), url_for("payfiles.batch", batch_id=made.id)


STAFF_WORDING = flow.Wording(made=_made, refused=refusal)


@bp.route("/accounts/<int:account_id>/payment-files")
@require_permission("payments.request")
def new(account_id: int) -> Response:
    return flow.upload_page(UploadForm(), _account(account_id), _urls(account_id), 200)


@bp.route("/accounts/<int:account_id>/payment-files/preview", methods=["POST"])
@require_permission("payments.request")
def preview(account_id: int) -> Response:
    return flow.preview(_account(account_id), _urls(account_id))


@bp.route("/accounts/<int:account_id>/payment-files/submit", methods=["POST"])
@require_permission("payments.request")
def submit(account_id: int) -> Response:
    return flow.submit(_account(account_id), _urls(account_id), STAFF_WORDING)


@bp.route("/payment-batches/<int:batch_id>")
@require_permission("payments.read")
def batch(batch_id: int) -> Response:
    try:
        found = batch_queries.batch(batch_id)
    except NotFound:
        abort(404)
    return render("payfiles/batch.html", batch=found, staff=True)
