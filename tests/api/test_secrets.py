"""No API key and no passcode in plain text: not in any text column of any table, not in logs."""

from __future__ import annotations

import html
import logging
import re

import pytest
import sqlalchemy as sa

from tests.api.conftest import bearer, end_read_transaction, payment_body
from tests.helpers import mailed_code
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, User
from vaulta.services.errors import InvalidInput
from vaulta.services.payments import payment_requests

RAW_KEY = re.compile(r"vk_[A-Za-z0-9]{10}_[A-Za-z0-9_-]{43}")


def _text_columns() -> str:
    """Every str and JSON value of every row of every table (the test's session is fresh)."""
    end_read_transaction()
    chunks = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)]
        for row in db.session.execute(sa.select(*columns)).all():
            chunks.extend(str(value) for value in row if value is not None)
    return "\n".join(chunks)


def _absent(secret: str, text: str) -> bool:
    return re.search(rf"(?<![0-9A-Za-z_-]){re.escape(secret)}(?![0-9A-Za-z_-])", text) is None


def test_keys_and_passcodes_are_stored_and_logged_only_as_hashes(
    caplog: pytest.LogCaptureFixture,
    customer_client: WebClient,
    customer_user: User,
    source: Account,
    target: Account,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(
        logging.INFO, logger="sqlalchemy.engine"
    )  # every SQL statement and its parameters
    # A key made on the settings page, shown once.
    page = customer_client.post_form(
        "/settings/api-keys", {"name": "Books", "scopes": ["read", "payments:write"]}
    )
    assert page.status_code == 201
    [raw] = RAW_KEY.findall(html.unescape(page.text))
    secret = raw.split("_", 2)[2]
    # Used for reads and a payment, and once wrongly in a URL.
    assert customer_client.get("/api/v1/accounts", headers=bearer(raw)).status_code == 200
    created = customer_client.post(
        "/api/v1/payments",
        json=payment_body(source, target),
        headers=bearer(raw, **{"Idempotency-Key": "secret-test"}),
    )
    assert created.status_code == 201
    assert customer_client.get(f"/api/v1/accounts?api_key={raw}").status_code == 400
    # A web payment confirmed with its mailed passcode, after one wrong try.
    payment = payment_requests.request_payment(
        actor=customer_user, from_account=source.number, to_account=target.number,
        amount="3.00", reference="Web payment",
    )  # fmt: skip
    code = mailed_code(customer_user.email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidInput):
        payment_requests.confirm(payment.id, actor=customer_user, code=wrong)
    payment_requests.confirm(payment.id, actor=customer_user, code=code)

    stored = _text_columns()
    logged = caplog.text
    assert "INSERT INTO api_idempotency_keys" in logged  # the log did capture SQL
    assert "mail to cust@example.test" in logged
    for text in (stored, logged):
        assert raw not in text
        assert secret not in text
        assert secret[:20] not in text
        assert secret[-20:] not in text
        assert _absent(code, text), "the passcode is in plain text"
        assert _absent(wrong, text), "a wrong passcode is in plain text"
