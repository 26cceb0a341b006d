"""``payments.batch``: a payment file's valid lines as one change request, decided as a
whole in the inbox and executed exactly once per line.

Made by staff (``payments.request``) for a customer's account, or by a customer's login
(``own.payments.request``) for one of its customer's own accounts (another's: NotFound);
either way the maker never decides it. Parameters given to ``submit``: ``account_id``
(the customer's account every line debits),
``file_name`` and ``content`` (the file's text). ``prepare`` checks the file with
``batch_lines.check_file`` (the rules of a one-off payment, per line) and stores only what
executes: the valid lines (``params["lines"]``), the invalid ones' numbers and reasons
(``params["invalid"]``), the file's name, format and SHA-256; never the file itself.

- amount = the total of the valid lines. Every line is in the debited account's currency
  (a line in another currency is invalid), so a batch has one currency and the policies see
  one amount: 10,000.00 or more in total needs two approvers, whatever the lines' sizes.
- dedupe key: the account and the file's SHA-256 (the same file twice pending is refused).
- recheck: the account and its customer are still active (else the whole request fails).
- execute, in the deciding transaction: each line in its own savepoint becomes a payment
  (``payment_creation.add_payment``, entered by the maker, approved by the last decider)
  posted through the ledger with the idempotency key ``payment-batch-<request>-<line>``; a
  line the ledger refuses (insufficient funds …) is rolled back to its savepoint and
  recorded ``failed`` with the reason while the others proceed. ``payment_batch_lines`` has
  one row per (request, line) (unique), so no line is ever paid twice.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vaulta.models import Account, ChangeRequest, Payment, PaymentBatchLine, User, utcnow
from vaulta.models.account import KIND_SYSTEM
from vaulta.models.payment import PAYMENT_EXECUTED
from vaulta.models.payment_batch import LINE_EXECUTED, LINE_FAILED
from vaulta.models.transaction import TX_PAYMENT
from vaulta.money import format_amount
from vaulta.services import audit, events
from vaulta.services.audit import chain
from vaulta.services.banking.accounts import system_account
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.errors import AccountNotAvailable, DomainError, InvalidInput, NotFound
from vaulta.services.events.payloads import PaymentBatchData
from vaulta.services.ledger.operations import post
from vaulta.services.ledger.postings import DESCRIPTION_MAX
from vaulta.services.payments import batch_lines, payment_fields
from vaulta.services.payments.payment_creation import CheckedPayment, add_payment

BATCH = "payments.batch"
FIRST_LINES_SHOWN = 3


def line_key(request_id: int, line_no: int) -> str:
    """The idempotency key of a line's payment and of its posting."""
    return f"payment-batch-{request_id}-{line_no}"


def _prepare(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    account_id = params.get("account_id")
    content = params.get("content")
    if not isinstance(account_id, int) or isinstance(account_id, bool):
        raise InvalidInput("Choose the account the file debits.", field="account")
    if not isinstance(content, str):
        raise InvalidInput("Upload a payment file.", field="file")
    preview = batch_lines.check_file(
        account_id,
        content.encode(),
        str(params.get("file_name")),
        customer_id=actor.customer_id,  # a customer's upload: their own account only (404)
    )
    if not preview.valid:
        raise InvalidInput("No line of the file is valid: nothing to request.", field="file")
    system_account(preview.currency)  # created now (its own transaction), not while deciding
    account = s.get(Account, preview.account_id, populate_existing=True)
    assert account is not None
    total = preview.totals[preview.currency]
    shown = format_amount(total, preview.currency)
    count = len(preview.valid)
    first = [
        f"{line['line_no']}: {format_amount(line['amount_minor'], line['currency'])} to "
        f"{line['beneficiary_name']} {line['beneficiary_iban']}"
        for line in preview.valid[:FIRST_LINES_SHOWN]
    ]
    return Prepared(
        target_type="account",
        target_id=preview.account_id,
        customer_id=preview.customer_id,
        amount_minor=total,
        currency=preview.currency,
        account_kind=account.kind,
        summary=f"Pay {count} line(s) of {preview.file_name}, {shown} from "
        f"{preview.account_number}",
        dedupe_key=f"{BATCH}:account:{preview.account_id}:{preview.sha256}",
        before={"account": preview.account_number, "balance_minor": account.balance_minor},
        after={
            "account": preview.account_number,
            "balance_minor": account.balance_minor - total,
            "file": preview.file_name,
            "format": preview.format,
            "payments": count,
            "total_minor": total,
            "invalid_lines_left_out": len(preview.invalid),
            "first_lines": "; ".join(first) + ("; …" if count > len(first) else ""),
        },
        params={
            "account_id": preview.account_id,
            "account_number": preview.account_number,
            "file_name": preview.file_name,
            "format": preview.format,
            "sha256": preview.sha256,
            "lines": preview.valid,
            "invalid": [
                {"line_no": e.line_no, "field": e.field, "message": e.message}
                for e in preview.invalid
            ],
        },
    )


def _batch_data(request: ChangeRequest, status: str, **extra: Any) -> PaymentBatchData:
    params = request.change["params"]
    assert request.amount_minor is not None
    assert request.currency is not None
    return PaymentBatchData(
        id=request.id,
        account_number=params["account_number"],
        customer_id=request.customer_id,
        status=status,
        lines=len(params["lines"]),
        amount_minor=request.amount_minor,
        currency=request.currency,
        **extra,
    )


def _submitted(s: Session, request: ChangeRequest) -> None:
    params = request.change["params"]
    audit.record(
        s,
        actor=request.maker_id,
        action="payment_batch.submit",
        object_type="change_request",
        object_id=request.id,
        details={
            "file_name": params["file_name"],
            "format": params["format"],
            "sha256": params["sha256"],
            "lines": len(params["lines"]),
            "invalid": len(params["invalid"]),
            "amount_minor": request.amount_minor,
            "currency": request.currency,
        },
    )
    events.emit(s, "payment_batch.created", _batch_data(request, request.status))


def _recheck(s: Session, request: ChangeRequest) -> None:
    params = request.change["params"]
    account = s.get(Account, params["account_id"], populate_existing=True)
    if account is None:
        raise NotFound("The account no longer exists.")
    assert account.customer_id is not None
    payment_fields.own_account(account.customer_id, account.number, field="account")


def _execute(s: Session, request: ChangeRequest, decider: User) -> dict[str, Any]:
    params = request.change["params"]
    account = s.get(Account, params["account_id"])
    assert account is not None
    system = s.scalar(
        sa.select(Account).where(Account.kind == KIND_SYSTEM, Account.currency == account.currency)
    )
    if system is None:
        raise AccountNotAvailable(f"There is no system account for {account.currency}.")
    done = set(
        s.scalars(
            sa.select(PaymentBatchLine.line_no).where(PaymentBatchLine.request_id == request.id)
        )
    )
    executed = failed = 0
    for line in params["lines"]:
        if line["line_no"] in done:
            continue  # never twice (a retry of a partly recorded batch)
        if _execute_line(s, request, decider, account, system, line):
            executed += 1
        else:
            failed += 1
    events.emit(
        s,
        "payment_batch.executed",
        _batch_data(request, status="executed", executed=executed, failed=failed),
    )
    return {"executed": executed, "failed": failed}


def _execute_line(
    s: Session,
    request: ChangeRequest,
    decider: User,
    account: Account,
    system: Account,
    line: dict[str, Any],
) -> bool:
    """Pay one line in a savepoint; on a refusal record it failed. True when paid."""
    key = line_key(request.id, line["line_no"])
    mark = len(chain.pending(s))
    now = utcnow()
    try:
        with s.begin_nested():
            payment = add_payment(
                s,
                request.maker,
                CheckedPayment(
                    source=account,
                    target=None,
                    beneficiary_name=line["beneficiary_name"],
                    beneficiary_iban=line["beneficiary_iban"],
                    beneficiary_bic=line["beneficiary_bic"],
                    amount_minor=line["amount_minor"],
                    reference=line["reference"],
                ),
                now=now,
                confirmed=True,
                action="payment.request",
                idempotency_key=key,
                audit_details={"change_request_id": request.id, "line_no": line["line_no"]},
                decided_by_request=request.id,
            )
            description = (
                f"Payment #{payment.id} to {line['beneficiary_name']} "
                f"{line['beneficiary_iban']}: {line['reference']}"
            )[:DESCRIPTION_MAX]
            tx = post(
                s,
                debit_account_id=account.id,
                credit_account_id=system.id,
                amount_minor=line["amount_minor"],
                kind=TX_PAYMENT,
                description=description,
                actor=decider,
                reference=f"PAY-{payment.id}",
                idempotency_key=key,
            )
            payment.status = PAYMENT_EXECUTED
            payment.transaction_id = tx.id
            payment.admin_approved_by = decider.id
            payment.approved_at = now
            s.add(
                PaymentBatchLine(
                    request_id=request.id,
                    line_no=line["line_no"],
                    status=LINE_EXECUTED,
                    payment_id=payment.id,
                )
            )
            s.flush()
            audit.record(
                s,
                actor=decider,
                action="payment_batch.line_executed",
                object_type="payment",
                object_id=payment.id,
                details={
                    "change_request_id": request.id,
                    "line_no": line["line_no"],
                    "amount_minor": line["amount_minor"],
                    "currency": line["currency"],
                    "transaction_id": tx.id,
                },
            )
            events.emit_payment(s, "payment.executed", payment.id)
        return True
    except DomainError as err:
        del chain.pending(s)[mark:]  # the audit events of what was rolled back
        s.add(
            PaymentBatchLine(
                request_id=request.id,
                line_no=line["line_no"],
                status=LINE_FAILED,
                failure_reason=err.message,
            )
        )
        s.flush()
        audit.record(
            s,
            actor=decider,
            action="payment_batch.line_failed",
            object_type="change_request",
            object_id=request.id,
            details={"line_no": line["line_no"], "reason": err.message},
        )
        return False


def payment_of(s: Session, request_id: int, line_no: int) -> Payment | None:
    """The payment a line became (None when it failed or has not executed)."""
    return s.scalar(
        sa.select(Payment).where(Payment.idempotency_key == line_key(request_id, line_no))
    )


register(
    ActionSpec(
        name=BATCH,
        maker_permission="payments.request",
        label="Payment file",
        is_money=True,
        prepare=_prepare,
        recheck=_recheck,
        execute=_execute,
        submitted=_submitted,
        customer_maker_permission="own.payments.request",
    )
)
