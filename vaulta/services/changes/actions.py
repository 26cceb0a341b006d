"""The registry of actions a change request can ask for.

An action is an ``ActionSpec``: its name (``ledger.deposit``), the permission a maker
needs to request it, and three functions:

- ``prepare(s, actor, params) -> Prepared``: checks the maker's input and describes the
  change (object, amount, the before/after diff, a dedupe key, the parameters to store).
  It runs before the submit's write transaction, on the session in read mode: it must not
  write through ``s`` (it may call a service that commits its own set-up, as
  ``system_account`` does). Raises InvalidInput, NotFound or Conflict.
- ``recheck(s, request) -> None``: inside the deciding write transaction, before the last
  approval executes: is it still possible (balance, account and customer status …)?
  Raises a DomainError whose message is the clear reason the request failed.
- ``execute(s, request, decider) -> dict``: does it in the caller's write transaction
  (no commit) and returns the request's ``result`` (JSON), e.g. ``{"transaction_id": 7}``.
- optional ``submitted(s, request) -> None``: in the submit's write transaction, after the
  request is stored: the action's own records of the request (a payment file's
  ``payment_batch.created`` event).

Other packages register their actions with ``register(spec)`` when imported; the ledger's
are in vaulta/services/changes/ledger_actions.py, which the package imports
(vaulta/services/changes/__init__.py), so they are registered whenever this module is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from vaulta.models import User

if TYPE_CHECKING:
    from vaulta.models import ChangeRequest


@dataclass(frozen=True)
class Prepared:
    """What ``prepare`` found: the object, the money (if any), the diff and what to store.

    ``dedupe_key`` names the object and action: a second pending request with the same key
    is refused (for money: account, amount and currency). ``params`` is what ``execute``
    needs later; it is stored in ``ChangeRequest.change["params"]``.
    """

    target_type: str
    target_id: int | None
    summary: str
    dedupe_key: str | None
    params: dict[str, Any]
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    beneficiary: str | None = None
    account_kind: str | None = None


PrepareFn = Callable[[Session, User, dict[str, Any]], Prepared]
RecheckFn = Callable[[Session, "ChangeRequest"], None]
ExecuteFn = Callable[[Session, "ChangeRequest", User], dict[str, Any]]
SubmittedFn = Callable[[Session, "ChangeRequest"], None]


@dataclass(frozen=True)
class ActionSpec:
    """One action that can be requested; see the module docstring for the functions."""

    name: str
    maker_permission: str
    label: str
    is_money: bool
    prepare: PrepareFn
    recheck: RecheckFn
    execute: ExecuteFn
    submitted: SubmittedFn | None = None
    # A customer moving their own money between their own accounts: its policy may ask
    # for no approval at all (0 levels; vaulta/services/changes/policies.py).
    self_service: bool = False
    # The permission a customer's login needs to request it (None: customers cannot); the
    # action's ``prepare`` then keeps the request to the customer's own objects.
    customer_maker_permission: str | None = None

    def maker_permission_for(self, actor: User) -> str:
        """The permission ``actor`` needs to request the action."""
        if actor.customer_id is not None and self.customer_maker_permission is not None:
            return self.customer_maker_permission
        return self.maker_permission


ACTIONS: dict[str, ActionSpec] = {}


def register(spec: ActionSpec) -> ActionSpec:
    """Add ``spec`` to the registry (once per name: registering a name twice is a bug)."""
    if spec.name in ACTIONS and ACTIONS[spec.name] is not spec:
        raise ValueError(f"action {spec.name!r} is already registered")
    ACTIONS[spec.name] = spec
    return spec


def get_action(name: str) -> ActionSpec:
    """The registered action ``name``; KeyError for an unknown one (a programming error)."""
    return ACTIONS[name]


@dataclass(frozen=True)
class Decider:
    """An action decided by its own service (payments: vaulta/services/payments/): the
    change-request commands hand a request of that action to these functions, so a
    decision made in the inbox and one made on the action's own pages is the same."""

    approve: Callable[..., None]
    reject: Callable[..., None]
    send_code: Callable[..., None]
    cancel: Callable[..., None]
    expired: Callable[[Session, list[int], Any], None]  # (s, target ids, now) in s


DECIDERS: dict[str, Decider] = {}
