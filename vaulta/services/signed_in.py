"""Who is signed in: the per-request check of the session's token (Flask-Login's user loader).

The session cookie holds the user's rotating ``session_token``, never the primary key.
Every signed-in request reads the user by that token (one indexed statement, unique index
on ``users.session_token``) and only while the login is active, so rotating the token or
deactivating the login ends its sessions at their next request. The ``User`` it returns
is ``current_user`` for the request, and the actor that views pass to services
(``vaulta.auth.session.acting_user()``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import defer

from vaulta.models import User
from vaulta.services.db import session

# Built once: each call only binds the token. The secrets are left out (a service that
# checks a password or a TOTP code loads them when it reads them).
_BY_SESSION_TOKEN = (
    sa.select(User)
    .where(User.session_token == sa.bindparam("token"), User.is_active.is_(True))
    .options(defer(User.password_hash), defer(User.totp_secret))
)


def by_session_token(token: str) -> User | None:
    """The active user whose current session identifier is ``token``."""
    if not token:
        return None
    return session().execute(_BY_SESSION_TOKEN, {"token": token}).scalar_one_or_none()
