"""Signing in through the real form, as a browser does: the password step, then, when the
login has a second factor by mail, the mailed code. (``WebClient.sign_in`` skips the form.)"""

from __future__ import annotations

from typing import Any

from tests.factories import PASSWORD
from tests.helpers import sign_in_code
from tests.webclient import WebClient

SECOND_FACTOR_URL = "/login/second-factor"


def post_login(
    client: WebClient,
    email: str,
    password: str = PASSWORD,
    address: str = "127.0.0.1",
    next_url: str | None = None,
) -> Any:
    """One POST of the sign-in form (the password step), from ``address``."""
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post_form(
        url, {"email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def finish_second_factor(client: WebClient, response: Any, email: str) -> Any:
    """When a sign-in answered with the second step, enter the mailed code; else pass
    ``response`` through."""
    if response.status_code != 302 or response.location != SECOND_FACTOR_URL:
        return response
    return client.post_form(SECOND_FACTOR_URL, {"code": sign_in_code(email)})


def sign_in_with_form(
    client: WebClient, email: str, password: str = PASSWORD, next_url: str | None = None
) -> Any:
    """Sign in through the real form (stamps the session like a browser sign-in); admins
    enter the code mailed for their second factor."""
    response = post_login(client, email, password, next_url=next_url)
    return finish_second_factor(client, response, email)
