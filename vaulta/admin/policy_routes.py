"""Approval policies (``policies.manage``): the versions in force, each policy's history, and
an edit form that asks for a ``policies.update`` change request (two approvers by the seeded
policy; vaulta/services/changes/policy_actions.py). Nothing changes until it is approved."""

from __future__ import annotations

from flask import flash, request, url_for
from werkzeug.wrappers import Response

from vaulta.admin import bp
from vaulta.admin.policy_forms import PLAIN_CURRENCY, PolicyForm, form_data
from vaulta.auth.access import acting_user, require_permission
from vaulta.forms import show_error
from vaulta.services.changes import change_requests, policies, policy_actions
from vaulta.services.changes.actions import ACTIONS
from vaulta.services.errors import DomainError, InvalidInput
from vaulta.services.unit_of_work import session
from vaulta.web import awaiting_approval, redirect_to, render


def _actions() -> list[str]:
    return sorted(ACTIONS)


@bp.get("/policies")
@require_permission("policies.manage")
def policies_index() -> Response:
    """The current version of every policy, as a table."""
    name = (request.args.get("name") or "").strip()
    if name:  # the "new policy" box: its edit form
        if not policy_actions.NAME_RE.match(name):
            raise InvalidInput("Name the policy with lower-case letters, digits and -.")
        return redirect_to(url_for("admin.policy", name=name))
    return render(
        "admin/policies.html",
        policies=policies.current_policies(session()),
        plain_currency=PLAIN_CURRENCY,
    )


def _policy_page(name: str, form: PolicyForm, status: int = 200) -> Response:
    if not policy_actions.NAME_RE.match(name):
        raise InvalidInput("Name the policy with lower-case letters, digits and -.")
    return render(
        "admin/policy.html",
        name=name,
        history=policies.policy_history(session(), name),
        form=form,
        plain_currency=PLAIN_CURRENCY,
        status=status,
    )


@bp.route("/policies/<name>", methods=["GET", "POST"])
@require_permission("policies.manage")
def policy(name: str) -> Response:
    """One policy: its versions, newest first, and the form for the next one."""
    if request.method == "GET":
        current = policy_actions.current_version(session(), name)
        form = PolicyForm(_actions(), formdata=None, data=form_data(current))
        return _policy_page(name, form)
    form = PolicyForm(_actions())
    if not form.validate_on_submit():
        return _policy_page(name, form, 422)
    try:
        made = change_requests.submit(
            policy_actions.ACTION, {"name": name, "fields": form.fields()}, actor=acting_user()
        )
    except DomainError as err:
        return _policy_page(name, form, 422 if show_error(form, err) else err.status)
    flash(awaiting_approval(made), "success")
    return redirect_to(url_for("admin.policy", name=name))
