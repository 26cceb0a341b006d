"""Who is signed in: the per-request check of the session's token (Flask-Login's user loader).

The session cookie holds the user's rotating ``session_token``, never the primary key.
Every signed-in request reads the user by that token (one indexed statement, unique index
on ``users.session_token``) and only while the login is active, so rotating the token or
deactivating the login ends its sessions at their next request. The ``User`` it returns
is ``current_user`` for the request, and the actor that views pass to services
(``vaulta.auth.access.acting_user()``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import defer, joinedload

from vaulta.models import Customer, User
from vaulta.models.customer import CUSTOMER_ACTIVE
from vaulta.services.unit_of_work import session

# Built once: each call only binds the token. The secrets are left out (a service that
# checks a password or a TOTP code loads them when it reads them). The customer's status
# comes with the same statement (a primary-key join): the logins of a suspended or closed
# customer are not loaded, so their sessions end at the next request. A staff login's roles
# (what its permissions come from) come with it too, joined: still one statement.
_BY_SESSION_TOKEN = (
    sa.select(User)
    .outerjoin(Customer, Customer.id == User.customer_id)
    .where(
        User.session_token == sa.bindparam("token"),
        User.is_active.is_(True),
        sa.or_(User.customer_id.is_(None), Customer.status == CUSTOMER_ACTIVE),
    )
    .options(defer(User.password_hash), defer(User.totp_secret), joinedload(User.staff_roles))
)


def by_session_token(token: str) -> User | None:
    """The active user whose current session identifier is ``token`` (staff, or a login of
    an active customer)."""
    if not token:
        return None
    found = session().execute(_BY_SESSION_TOKEN, {"token": token}).unique()
    return found.scalar_one_or_none()
