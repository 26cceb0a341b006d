"""Who is signed in: read once per request, as a plain snapshot of the user's row.

Every signed-in request checks the session's rotating token against ``users``. Loading a
``User`` through the ORM for that cost about 0.1 ms of each request (most of a light
page's database time), although most requests only read a few fields of it (role, name,
customer, second factor). ``SignedInUser`` carries exactly those, read with one Core
statement. Services that act for the user take the ORM ``User``: views get it with
``vaulta.auth.session.acting_user()``, which loads it by primary key only when needed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar

import sqlalchemy as sa

from vaulta.models import Customer, User
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.models.user import SignInIdentity
from vaulta.services.db import session
from vaulta.services.errors import NotFound

_USERS = User.__table__
_CUSTOMERS = Customer.__table__


@dataclass(frozen=True, slots=True)
class SignedInUser(SignInIdentity):
    """The signed-in user as of the start of this request (Flask-Login's user object).

    Only active users are ever loaded (see the statement below), hence ``is_active``;
    a login of a suspended or closed customer is not loaded at all (its session ends)."""

    id: int
    email: str
    role: str
    full_name: str
    customer_id: int | None
    two_factor_method: str | None
    session_token: str

    is_active: ClassVar[bool] = True


_FIELDS = [getattr(_USERS.c, field.name) for field in fields(SignedInUser)]
# Built once: each call only binds the token. The customer's status comes with the same
# statement (a primary-key join): a suspended or closed customer's sessions end at once.
_BY_SESSION_TOKEN = (
    sa.select(*_FIELDS)
    .select_from(_USERS.outerjoin(_CUSTOMERS, _CUSTOMERS.c.id == _USERS.c.customer_id))
    .where(
        _USERS.c.session_token == sa.bindparam("token"),
        _USERS.c.is_active.is_(True),
        sa.or_(_USERS.c.customer_id.is_(None), _CUSTOMERS.c.status == CUSTOMER_ACTIVE),
    )
)


def by_session_token(token: str) -> SignedInUser | None:
    """The active user whose current session identifier is ``token`` (an admin, or a
    login of an active customer)."""
    if not token:
        return None
    row: Any = session().connection().execute(_BY_SESSION_TOKEN, {"token": token}).first()
    return None if row is None else SignedInUser(*row)


def as_user(user: SignedInUser | User) -> User:
    """The ORM ``User`` behind ``user`` (loaded by primary key once per session)."""
    if isinstance(user, User):
        return user
    loaded = session().get(User, user.id)
    if loaded is None:
        raise NotFound("There is no such login.")
    return loaded
