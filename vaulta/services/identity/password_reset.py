"""Password reset by a mailed one-time code, without account enumeration.

1. ``request_reset(email)``: an active login with that email gets a code (``otp``: HMAC only,
   OTP_TTL_SECONDS, OTP_MAX_ATTEMPTS, single use, purpose ``password_reset``, no subject) by
   mail. Any other address, and the login of a suspended or closed customer (a frozen
   profile), gets nothing, writes nothing, and the caller cannot tell: the function returns
   nothing in both cases and does the same code generation and HMAC.
2. ``reset_password(email, code, new_password)``: the password policy first (it depends only
   on what was typed), then the argon2id hash (always, so an unknown address costs the
   same), then the code. Any wrong email/code combination gives one message. The new
   password replaces the old one, the session identifier rotates (every session ends) and
   ``user.password_reset`` is audited (no secrets). The user is not signed in: the second
   factor still applies at the next sign-in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app

from vaulta import mail
from vaulta.models import User
from vaulta.models.user import new_session_token
from vaulta.services import audit
from vaulta.services.errors import InvalidInput
from vaulta.services.identity import otp, passwords, users
from vaulta.services.identity.password_policy import password_problem
from vaulta.services.unit_of_work import write_transaction

PURPOSE = "password_reset"
# One reset at a time per login (a new code replaces the older ones): no subject.
SUBJECT = None
MAIL_SUBJECT = "Your VAULTA password reset code"
INVALID_CODE = "The code is not valid or has expired."


def request_reset(email: str) -> None:
    """Mail a reset code when ``email`` names a login that may sign in; otherwise do nothing
    visible."""
    user = users.find_by_email(email)
    if user is None or not users.may_sign_in(user):
        _decoy_code()
        return
    code = otp.issue(user, PURPOSE, SUBJECT)
    minutes = current_app.config["OTP_TTL_SECONDS"] // 60
    mail.send(
        user.email,
        MAIL_SUBJECT,
        f"Your password reset code is {code}. It works once, for {minutes} minutes.\n"
        "If you did not ask to reset your password, ignore this message: "
        "your password stays as it is.",
    )


def reset_password(email: str, code: str, new_password: str) -> User:
    """Set a new password with a mailed code; return the user (not signed in).

    Raises InvalidInput on ``new_password`` (policy) or on ``code`` with INVALID_CODE for
    every wrong email/code combination (unknown or inactive login, wrong, expired, used or
    locked code).
    """
    problem = password_problem(new_password, email=users.normalise_email(email))
    if problem:
        raise InvalidInput(problem, field="new_password")
    new_hash = passwords.hash_password(new_password)
    user = users.find_by_email(email)
    if user is None or not users.may_sign_in(user):
        _decoy_code()
        raise InvalidInput(INVALID_CODE, field="code")
    try:
        otp.verify(user, PURPOSE, SUBJECT, code)
    except InvalidInput:
        raise InvalidInput(INVALID_CODE, field="code") from None
    with write_transaction() as s:
        fresh = s.get(User, user.id, with_for_update=True)
        if fresh is None or not fresh.is_active:
            raise InvalidInput(INVALID_CODE, field="code")
        fresh.password_hash = new_hash
        fresh.session_token = new_session_token()
        audit.record(
            s, actor=fresh, action="user.password_reset", object_type="user", object_id=fresh.id
        )
    return fresh


def _decoy_code() -> None:
    """The CPU part of issuing or checking a code, for an address with no login."""
    code = f"{secrets.randbelow(10**otp.CODE_DIGITS):0{otp.CODE_DIGITS}d}"
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"0\x1f{PURPOSE}\x1fNone\x1f{code}".encode(), hashlib.sha256)
    hmac.compare_digest(digest.hexdigest(), digest.hexdigest())
