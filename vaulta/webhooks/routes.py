"""Admin pages for webhook endpoints: list and add, details with the delivery log, edit,
rotate the secret (shown once), replay, delete. Each view calls one service."""

from __future__ import annotations

from datetime import UTC

from flask import flash, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from vaulta.auth.access import acting_user, require_permission
from vaulta.forms import show_error
from vaulta.ops import queue
from vaulta.services.errors import DomainError
from vaulta.services.webhooks import endpoint_queries, endpoints
from vaulta.web import redirect_to, render
from vaulta.webhooks import bp
from vaulta.webhooks.forms import ConfirmForm, EndpointForm, ReplaySinceForm, RotateForm


def _show_error(form: FlaskForm, err: DomainError) -> int:
    """The error on its field (422) or above the form (the error's own status)."""
    return 422 if show_error(form, err) else err.status


def _index(form: EndpointForm, status: int = 200) -> Response:
    return render(
        "webhooks/index.html", endpoints=endpoint_queries.list_endpoints(), form=form, status=status
    )


@bp.get("/")
@require_permission("webhooks.read")
def index() -> Response:
    return _index(EndpointForm())


@bp.post("/")
@require_permission("webhooks.manage")
def create() -> Response:
    form = EndpointForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    try:
        made = endpoints.create_endpoint(
            actor=acting_user(),
            url=form.url.data or "",
            event_types=form.event_types.data or [],
            description=form.description.data or "",
            enabled=bool(form.enabled.data),
        )
    except DomainError as err:
        return _index(form, _show_error(form, err))
    return render("webhooks/secret.html", endpoint=made.endpoint, secret=made.secret, status=201)


def _detail(public_id: str, *, status: int = 200, **forms: FlaskForm) -> Response:
    endpoint = endpoint_queries.get_endpoint(public_id)
    edit = forms.get("edit") or EndpointForm(
        url=endpoint.url,
        event_types=endpoint.event_types,
        description=endpoint.description,
        enabled=endpoint.enabled,
        formdata=None,
    )
    return render(
        "webhooks/detail.html",
        endpoint=endpoint,
        deliveries=endpoint_queries.delivery_log(endpoint.id),
        edit=edit,
        rotate=forms.get("rotate") or RotateForm(formdata=None),
        replay=forms.get("replay") or ReplaySinceForm(formdata=None),
        confirm=ConfirmForm(formdata=None),
        status=status,
    )


@bp.get("/<public_id>")
@require_permission("webhooks.read")
def detail(public_id: str) -> Response:
    return _detail(public_id)


@bp.post("/<public_id>/edit")
@require_permission("webhooks.manage")
def edit(public_id: str) -> Response:
    form = EndpointForm()
    if not form.validate_on_submit():
        return _detail(public_id, status=422, edit=form)
    try:
        endpoints.update_endpoint(
            public_id,
            actor=acting_user(),
            url=form.url.data or "",
            event_types=form.event_types.data or [],
            description=form.description.data or "",
            enabled=bool(form.enabled.data),
        )
    except DomainError as err:
        return _detail(public_id, status=_show_error(form, err), edit=form)
    flash("Endpoint saved.", "success")
    return redirect_to(url_for("webhooks.detail", public_id=public_id))


@bp.post("/<public_id>/rotate")
@require_permission("webhooks.manage")
def rotate(public_id: str) -> Response:
    form = RotateForm()
    if not form.validate_on_submit():
        return _detail(public_id, status=422, rotate=form)
    rotated = endpoints.rotate_secret(
        public_id, actor=acting_user(), grace_hours=form.grace_hours.data or 0
    )
    return render("webhooks/secret.html", endpoint=rotated.endpoint, secret=rotated.secret)


@bp.post("/<public_id>/replay")
@require_permission("webhooks.manage")
def replay_since(public_id: str) -> Response:
    form = ReplaySinceForm()
    if not form.validate_on_submit() or form.since.data is None:
        return _detail(public_id, status=422, replay=form)
    since = form.since.data.replace(tzinfo=UTC)
    count = endpoints.replay(public_id, actor=acting_user(), since=since)
    flash(f"{count} event(s) will be sent again.", "success")
    return redirect_to(url_for("webhooks.detail", public_id=public_id))


@bp.post("/<public_id>/deliveries/<int:delivery_id>/replay")
@require_permission("webhooks.manage")
def replay_one(public_id: str, delivery_id: int) -> Response:
    if not ConfirmForm().validate_on_submit():
        return _detail(public_id, status=400)
    endpoints.replay(public_id, actor=acting_user(), delivery_id=delivery_id)
    flash("The delivery will be sent again.", "success")
    return redirect_to(url_for("webhooks.detail", public_id=public_id))


@bp.post("/<public_id>/test")
@require_permission("webhooks.manage")
def send_test(public_id: str) -> Response:
    if not ConfirmForm().validate_on_submit():
        return _detail(public_id, status=400)
    event_id = endpoints.send_test(public_id, actor=acting_user())
    queue.deliver_soon()
    flash(f"Test event {event_id} queued: its delivery shows below.", "success")
    return redirect_to(url_for("webhooks.detail", public_id=public_id))


@bp.post("/<public_id>/delete")
@require_permission("webhooks.manage")
def delete(public_id: str) -> Response:
    if not ConfirmForm().validate_on_submit():
        return _detail(public_id, status=400)
    endpoints.delete_endpoint(public_id, actor=acting_user())
    flash("Endpoint deleted.", "success")
    return redirect_to(url_for("webhooks.index"))
