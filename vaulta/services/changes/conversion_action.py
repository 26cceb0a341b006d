"""A customer's conversion between their own accounts as a change request:
``ledger.conversion`` (params ``{"quote_id"}``), made by the customer (``own.conversions.
request``).

It is the customer's own money moving between their own accounts, so the seeded policy
``conversions`` needs 0 levels: ``submit`` executes it at once (approved, with the entry
in ``result``). The bank can ask for approval by editing that policy (a policy naming the
action itself wins over the generic ones, vaulta/services/changes/policies.py); the request
then waits in the inbox and executes at the quoted rate when approved.

- ``prepare``: the customer's own quote, open (unused, unexpired), accounts usable and
  funded; the FX position accounts of both currencies are created now if missing.
- ``submitted``: uses the quote (a conditional update: once, and only before it expires);
  a quote used meanwhile rolls the submission back (Conflict).
- ``recheck``/``execute``: both accounts still usable; ``fx.conversions.execute_quote``
  posts the entry with the idempotency key ``change-request-<id>``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from vaulta.models import Account, ChangeRequest, FxQuote, User, utcnow
from vaulta.money import format_amount
from vaulta.services.banking.accounts import fx_position_account
from vaulta.services.changes.actions import ActionSpec, Prepared, register
from vaulta.services.changes.ledger_actions import execution_key
from vaulta.services.errors import NotFound
from vaulta.services.ledger.fx import conversions, quotes

CONVERSION = "ledger.conversion"


def _accounts(s: Session, quote: FxQuote) -> tuple[Account, Account]:
    source = s.get(Account, quote.from_account_id, populate_existing=True)
    target = s.get(Account, quote.to_account_id, populate_existing=True)
    if source is None or target is None:
        raise NotFound("No such account.")
    return source, target


def _prepare(s: Session, actor: User, params: dict[str, Any]) -> Prepared:
    quote = quotes.get_quote(actor, params.get("quote_id"))
    quotes.check_open(quote)
    source, target = _accounts(s, quote)
    quotes.check_usable(s, source, target)
    quotes.check_funds(source, quote.from_amount_minor)
    fx_position_account(quote.from_currency)  # created now (own transaction), not deciding
    fx_position_account(quote.to_currency)
    paid = format_amount(quote.from_amount_minor, quote.from_currency)
    received = format_amount(quote.to_amount_minor, quote.to_currency)
    return Prepared(
        target_type="account",
        target_id=source.id,
        customer_id=quote.customer_id,
        amount_minor=quote.from_amount_minor,
        currency=quote.from_currency,
        account_kind=source.kind,
        beneficiary=target.number,
        before={
            "from": {"account": source.number, "balance_minor": source.balance_minor},
            "to": {"account": target.number, "balance_minor": target.balance_minor},
        },
        after={
            "from": {
                "account": source.number,
                "balance_minor": source.balance_minor - quote.from_amount_minor,
            },
            "to": {
                "account": target.number,
                "balance_minor": target.balance_minor + quote.to_amount_minor,
            },
            "rate": format(quote.rate, "f"),
            "spread_bps": quote.spread_bps,
        },
        summary=f"Convert {paid} from {source.number} into {received} to {target.number}",
        dedupe_key=quotes.PENDING_REQUEST_KEY_PREFIX + quote.id,
        params={"quote_id": quote.id},
    )


def _submitted(s: Session, request: ChangeRequest) -> None:
    assert request.customer_id is not None
    quotes.consume(s, request.change["params"]["quote_id"], request.customer_id, utcnow())


def _recheck(s: Session, request: ChangeRequest) -> None:
    quote = s.get(FxQuote, request.change["params"]["quote_id"])
    if quote is None:
        raise NotFound("The quote no longer exists.")
    quotes.check_usable(s, *_accounts(s, quote))


def _execute(s: Session, request: ChangeRequest, _decider: User) -> dict[str, Any]:
    tx_id = conversions.execute_quote(
        s,
        request.change["params"]["quote_id"],
        actor_id=request.maker_id,
        idempotency_key=execution_key(request),
    )
    return {"transaction_id": tx_id}


register(
    ActionSpec(
        name=CONVERSION,
        maker_permission=quotes.PERMISSION,
        label="Currency conversion",
        is_money=True,
        prepare=_prepare,
        recheck=_recheck,
        execute=_execute,
        submitted=_submitted,
        self_service=True,
    )
)
