"""Accounts: customers' own accounts and statements; the admin account page.

Customers reach an account by its number, always through
``account_queries.get_account_for_customer`` (another customer's number is a 404). Staff reach
any account by id; tellers ask for status changes and for money in and out: each is a
change request (vaulta/services/changes/) that acts only once approvers approve it. The
page reads the account with its statement page in one statement
(``statements.account_statement``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from flask import current_app, flash, request, stream_with_context, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from vaulta.accounts import bp, confirmation, dashboard, hold_forms
from vaulta.accounts.confirmation import ConfirmationInvalid, PendingMovement
from vaulta.accounts.conversion_routes import conversion_context
from vaulta.accounts.forms import ConfirmMoneyForm, MoneyForm, OverdraftForm, StatusForm
from vaulta.auth.access import (
    acting_user,
    customer_required,
    require_permission,
    require_permission_for,
)
from vaulta.forms import show_error
from vaulta.models import Account, ChangeRequest, User
from vaulta.models.account import ACCOUNT_CLOSED
from vaulta.money import format_plain, to_decimal
from vaulta.services.banking import account_queries
from vaulta.services.changes import change_requests, object_requests
from vaulta.services.errors import DomainError, InvalidInput, NotFound
from vaulta.services.ledger import entry_legs, hold_queries, statements
from vaulta.spreadsheets import DATE, DAY, INTEGER, MONEY, Column, Money, send_xlsx
from vaulta.web import (
    awaiting_approval,
    redirect_to,
    refusal,
    render,
    stream_csv,
    wants_partial,
)

# The form's action -> the change request's action (vaulta/services/changes/ledger_actions.py).
MONEY_ACTIONS: dict[str, str] = {"deposit": "ledger.deposit", "withdraw": "ledger.withdrawal"}
CSV_HEADER = (
    "date",
    "id",
    "kind",
    "description",
    "reference",
    "counterparty",
    "amount",
    "currency",
    "balance",
    "value_date",
)
XLSX_COLUMNS = (
    Column("date (UTC)", DATE, 20),
    Column("id", INTEGER, 10),
    Column("kind"),
    Column("description", width=40),
    Column("reference", width=20),
    Column("counterparty", width=28),
    Column("amount", MONEY),
    Column("currency", width=9),
    Column("balance", MONEY, 16),
    Column("value date", DAY, 12),
)
ADMIN_PAGE = "accounts/admin_detail.html"


def _actor() -> User:
    return acting_user()


def _before_id() -> int | None:
    return request.args.get("before_id", type=int)


def _statement_context(
    account: Account | statements.AccountFacts,
    page: statements.StatementPage,
    newest: str,
    endpoint: str,
    **args: Any,
) -> dict[str, Any]:
    """The statement page asked for by ``?before_id=``, the URLs of the next and newest."""
    more_url = (
        url_for(endpoint, before_id=page.next_before_id, **args) if page.next_before_id else None
    )
    return {
        "account": account,
        "statement": page,
        "before_id": _before_id(),
        "more_url": more_url,
        "newest_url": url_for(newest, **args),
    }


def _customer_context(number: str) -> dict[str, Any]:
    account = _own_account(number)
    page = statements.statement_page(
        account, before_id=_before_id(), limit=current_app.config["PAGE_SIZE"]
    )
    return _statement_context(account, page, ".statement", ".statement_rows", number=number)


# --- customers -------------------------------------------------------------------------


@bp.route("/")
@login_required
def index() -> Response:
    if current_user.is_staff:
        return redirect_to(url_for("admin.index"))
    if current_user.customer_id is None:  # pragma: no cover - forbidden by a check constraint
        return render("accounts/index.html", accounts=[])
    owned = account_queries.accounts_of_customer(current_user.customer_id)
    return render("accounts/index.html", accounts=owned, charts=dashboard.customer_charts(owned))


def _own_account(number: str) -> Account:
    return account_queries.get_account_for_customer(number, current_user.customer_id)


@bp.route("/accounts/<number>")
@customer_required
def statement(number: str) -> Response:
    context = _customer_context(number)
    context["holds"] = hold_queries.holds_for_page(context["account"].id, active_only=True)
    return render("accounts/statement.html", **context, **conversion_context(context["account"]))


@bp.route("/accounts/<number>/statement")
@customer_required
def statement_rows(number: str) -> Response:
    """Older statement rows: a partial for htmx "Load more", the whole page without JS."""
    return render(
        "accounts/statement.html", "accounts/_statement_rows.html", **_customer_context(number)
    )


@bp.route("/accounts/<number>/statement.csv")
@customer_required
def statement_csv(number: str) -> Response:
    return _csv_response(_own_account(number))


@bp.route("/accounts/<number>/statement.xlsx")
@customer_required
def statement_xlsx(number: str) -> Response:
    return _xlsx_response(_own_account(number))


# --- admins ----------------------------------------------------------------------------


def admin_context(
    account_id: int,
    submitted: dict[str, MoneyForm] | None = None,
    confirming: dict[str, tuple[PendingMovement, ConfirmMoneyForm]] | None = None,
    *,
    rows_only: bool = False,
) -> dict[str, Any]:
    """The account page: the account, its statement and money forms, fresh (new one-time
    keys) unless ``submitted[action]`` is a form being shown again, or
    ``confirming[action]`` a movement waiting for its confirmation.

    The account (with its held amount and overdraft limit) and the page are read in one
    statement (a missing account is 404). The change requests about the account that await
    approval take one more, and a customer account's holds one more (with the hold forms,
    vaulta/accounts/hold_routes.py), both skipped when only older statement rows are
    rendered (``rows_only``)."""
    account, page = statements.account_statement(
        account_id, before_id=_before_id(), limit=current_app.config["PAGE_SIZE"]
    )
    context = _statement_context(
        account, page, ".admin_detail", ".admin_statement", account_id=account_id
    )
    # Status actions and money forms only for open customer accounts (the template shows
    # them then); a system or closed account's page builds no forms.
    context["legs"] = entry_legs.legs_of(row.id for row in page.rows)
    context["actionable"] = not account.is_system and account.status != ACCOUNT_CLOSED
    if context["actionable"] and not rows_only:
        context["pending_requests"] = object_requests.pending_for("account", account.id)
    if context["actionable"]:
        for action in MONEY_ACTIONS:
            context[f"{action}_form"] = (submitted or {}).get(action) or MoneyForm(
                account.currency, prefix=action, formdata=None
            )
            context[f"{action}_pending"] = (confirming or {}).get(action)
    if not account.is_system and not rows_only:
        limit = account.overdraft_limit_minor
        context["overdraft_limit_minor"] = limit
        context["overdraft_form"] = OverdraftForm(
            account.currency,
            prefix="overdraft",
            formdata=None,
            data={"limit": format_plain(limit, account.currency)},
        )
        context.update(hold_forms.page_forms(account.currency))
        context["holds"] = hold_queries.holds_for_page(account.id)
    return context


@bp.route("/admin/accounts/<int:account_id>")
@require_permission("accounts.read")
def admin_detail(account_id: int) -> Response:
    return render(ADMIN_PAGE, **admin_context(account_id))


@bp.route("/admin/accounts/<int:account_id>/statement")
@require_permission("accounts.read")
def admin_statement(account_id: int) -> Response:
    """Older statement rows: a partial for htmx "Load more", the whole page without JS."""
    context = admin_context(account_id, rows_only=wants_partial())
    return render(ADMIN_PAGE, "accounts/_statement_rows.html", **context)


@bp.route("/admin/accounts/<int:account_id>/statement.csv")
@require_permission("accounts.read")
def admin_statement_csv(account_id: int) -> Response:
    return _csv_response(account_queries.get_account(account_id))


@bp.route("/admin/accounts/<int:account_id>/statement.xlsx")
@require_permission("accounts.read")
def admin_statement_xlsx(account_id: int) -> Response:
    return _xlsx_response(account_queries.get_account(account_id))


@bp.route("/admin/accounts/<int:account_id>/<any(deposit, withdraw):action>", methods=["POST"])
@require_permission_for(
    "action", {"deposit": "ledger.deposit.request", "withdraw": "ledger.withdrawal.request"}
)
def move_money(account_id: int, action: str) -> Response:
    """Deposit or withdraw in two steps: the form, checked, is shown for confirmation
    (vaulta/accounts/confirmation.py); only Confirm posts. htmx gets the confirmation or
    the form in place of the form, and the refreshed panel once posted."""
    account = account_queries.get_account(account_id)
    if request.form.get(f"{action}-step"):
        return _confirmation_step(account, action)
    form = MoneyForm(account.currency, prefix=action)
    if not form.validate_on_submit():
        return _money_step(account, action, form=form, status=422)
    movement = PendingMovement(
        account_id=account.id,
        action=action,
        amount_minor=form.amount_minor,
        currency=account.currency,
        description=(form.description.data or "").strip(),
        idempotency_key=form.idempotency_key.data or "",
        actor_id=_actor().id,
        value_date=form.value_date.data.isoformat() if form.value_date.data else None,
    )
    return _money_step(account, action, pending=movement)


def _confirmation_step(account: Account, action: str) -> Response:
    """Confirm (post the signed movement) or Change (the form again, filled in)."""
    confirm = ConfirmMoneyForm(prefix=action)
    try:
        if not confirm.validate_on_submit():
            raise ConfirmationInvalid(confirmation.EXPIRED)
        movement = confirmation.load(
            confirm.confirmation.data or "",
            account_id=account.id,
            action=action,
            currency=account.currency,
            actor_id=_actor().id,
        )
    except ConfirmationInvalid as err:
        form = MoneyForm(account.currency, prefix=action, formdata=None)
        form.form_errors.append(str(err))
        return _money_step(account, action, form=form, status=422)
    form = MoneyForm(
        account.currency,
        prefix=action,
        formdata=None,
        data={
            "amount": format_plain(movement.amount_minor, movement.currency),
            "description": movement.description,
            "idempotency_key": movement.idempotency_key,
            "value_date": date.fromisoformat(movement.value_date) if movement.value_date else None,
        },
    )
    if confirm.step.data == "change":
        return _money_step(account, action, form=form)
    duplicate = False
    try:
        made = change_requests.submit(
            MONEY_ACTIONS[action],
            {
                "account_id": account.id,
                "amount_minor": movement.amount_minor,
                "currency": movement.currency,
                "description": movement.description,
                **({"value_date": movement.value_date} if movement.value_date else {}),
            },
            actor=_actor(),
            idempotency_key=movement.idempotency_key,
        )
    except change_requests.DuplicateRequest as err:
        made, duplicate = change_requests.get(err.first_id), True
    except DomainError as err:
        show_error(form, err)
        return _money_step(account, action, form=form, status=err.status)
    return _submitted(account, made, duplicate=duplicate)


def _submitted(account: Account, made: ChangeRequest, *, duplicate: bool) -> Response:
    """htmx: the refreshed panel saying which request awaits approval, with a link to it;
    a plain post goes to the request's page."""
    if wants_partial():
        context = admin_context(account.id)
        return render(
            ADMIN_PAGE,
            "accounts/_account_panel.html",
            submitted=made,
            duplicate=duplicate,
            **context,
        )
    flash(awaiting_approval(made, duplicate=duplicate), "info" if duplicate else "success")
    return redirect_to(url_for("inbox.detail", request_id=made.id))


def _money_step(
    account: Account,
    action: str,
    *,
    form: MoneyForm | None = None,
    pending: PendingMovement | None = None,
    status: int = 200,
) -> Response:
    """The account page with ``action``'s form (with its errors) or its confirmation; for
    htmx only that part, swapped in place of the form."""
    confirming = None
    if pending is not None:
        confirm = ConfirmMoneyForm(
            prefix=action, formdata=None, data={"confirmation": confirmation.sign(pending)}
        )
        confirming = {action: (pending, confirm)}
    context = admin_context(account.id, {action: form} if form else None, confirming)
    response = render(
        ADMIN_PAGE,
        "accounts/_money_form.html",
        status=status,
        form=context[f"{action}_form"],
        pending=context[f"{action}_pending"],
        action=action,
        **context,
    )
    if wants_partial():
        response.headers["HX-Retarget"] = f"#{action}-form"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.route(
    "/admin/accounts/<int:account_id>/"
    "<any(freeze, unfreeze, close, 'debit-block', 'credit-block', unblock):action>",
    methods=["POST"],
)
@require_permission("accounts.manage")
def change_status(account_id: int, action: str) -> Response:
    """Ask for the status change: a change request another person approves (the account
    changes only then, vaulta/services/changes/banking_actions.py)."""
    account = account_queries.get_account(account_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            made = change_requests.submit(
                f"account.{action.replace('-', '_')}",
                {"account_id": account.id, "reason": form.reason.data},
                actor=_actor(),
            )
            flash(awaiting_approval(made), "success")
        except NotFound:
            raise
        except DomainError as err:
            flash(refusal(err), "error")
    else:
        flash("Keep the reason under 500 characters.", "error")
    return redirect_to(url_for(".admin_detail", account_id=account.id))


# --- CSV export ------------------------------------------------------------------------


def _date_arg(name: str) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"Give dates like 2025-01-31 ({name}={text!r}).", field=name) from None


def _csv_response(account: Account) -> Response:
    """The statement oldest first, streamed while it is read (never all in memory)."""
    date_from, date_to = _date_arg("from"), _date_arg("to")
    currency, number = account.currency, account.number
    rows = statements.iter_statement(account, date_from=date_from, date_to=date_to)

    def lines() -> Iterator[tuple[Any, ...]]:
        for row in rows:
            yield (
                row.created_at.isoformat(timespec="seconds"),
                row.id,
                row.kind,
                row.description,
                row.reference or "",
                row.counterparty,
                to_decimal(row.amount_minor, currency),
                currency,
                to_decimal(row.balance_minor, currency),
                row.value_date.isoformat(),
            )

    return stream_csv(f"statement-{number}.csv", CSV_HEADER, stream_with_context(lines()))


def _xlsx_response(account: Account) -> Response:
    """The statement as XLSX cells (the CSV's columns), written to a temporary file."""
    date_from, date_to = _date_arg("from"), _date_arg("to")
    currency = account.currency
    rows = statements.iter_statement(account, date_from=date_from, date_to=date_to)
    cells = (
        (
            row.created_at,
            row.id,
            row.kind,
            row.description,
            row.reference,
            row.counterparty,
            Money(row.amount_minor, currency),
            currency,
            Money(row.balance_minor, currency),
            row.value_date,
        )
        for row in rows
    )
    return send_xlsx(f"statement-{account.number}.xlsx", "Statement", XLSX_COLUMNS, cells)
