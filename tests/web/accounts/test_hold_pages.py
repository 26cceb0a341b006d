"""Holds on the account pages: staff see balance, held, available and the holds; tellers ask
to place, capture (partly or fully) and release holds (change requests that change nothing
until approved); bad input is a 4xx with the message on its field; auditors read but may
not ask; another account's or an unknown hold is a 404; customers see what is held."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests import factories
from tests.change_steps import approve, approve_newest, newest_request, request_id_in
from tests.helpers import count_rows
from tests.webclient import WebClient
from vaulta.extensions import db
from vaulta.models import Account, ChangeRequest, Hold, User, utcnow
from vaulta.services.ledger import holds

EXPIRY_FORMAT = "%Y-%m-%dT%H:%M"


def _tomorrow() -> str:
    return (utcnow() + timedelta(days=1)).strftime(EXPIRY_FORMAT)


def _place(account: Account, amount: int, reason: str, actor: User) -> int:
    return holds.place(
        account.id, amount, reason=reason, expires_at=utcnow() + timedelta(days=1), actor=actor
    )


def _money(account: Account) -> tuple[int, int]:
    """(balance, held) as stored now."""
    db.session.rollback()
    fresh = db.session.get(Account, account.id, populate_existing=True)
    assert fresh is not None
    return fresh.balance_minor, fresh.held_minor


def _status(hold_id: int) -> str:
    db.session.rollback()
    return str(db.session.scalar(sa.select(Hold.status).where(Hold.id == hold_id)))


def _dd(html: str, element_id: str) -> str:
    return html.split(f'id="{element_id}"', 1)[1].split("</dd>", 1)[0]


def _place_form(amount: str = "40.00", reason: str = "Court order", expires: str = "") -> dict:
    return {
        "hold-amount": amount,
        "hold-reason": reason,
        "hold-expires_at": expires or _tomorrow(),
    }


def test_the_staff_page_shows_the_amounts_and_the_holds(
    teller_client: WebClient, admin: User, owned: Account
) -> None:
    db.session.execute(
        sa.update(Account).where(Account.id == owned.id).values(overdraft_limit_minor=5_000)
    )
    db.session.commit()
    ended = _place(owned, 1_000, "Old card payment", admin)
    holds.release(ended, actor=admin)
    active = _place(owned, 2_500, "Card payment", admin)
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert "100.00 EUR" in _dd(html, "account-balance")
    assert "25.00 EUR" in _dd(html, "account-held")
    assert "125.00 EUR" in _dd(html, "account-available")  # 100 - 25 + 50
    assert "50.00 EUR" in _dd(html, "account-overdraft")
    panel = html.split('id="holds-panel"', 1)[1]
    assert panel.index(f'id="hold-{active}"') < panel.index(f'id="hold-{ended}"')  # active first
    assert "Card payment" in panel
    assert "Old card payment" in panel
    assert "released" in panel
    assert "Test Admin" in panel  # placed by
    assert 'id="hold-form"' in panel
    assert f'id="capture-form-{active}"' in panel
    assert f'id="release-form-{active}"' in panel
    assert f'id="capture-form-{ended}"' not in panel  # an ended hold has no actions


def test_place_capture_and_release_through_approval(
    teller_client: WebClient, approver: User, owned: Account
) -> None:
    url = f"/admin/accounts/{owned.id}"
    # Place: a plain post goes back to the page, which links to the request.
    placed = teller_client.post_form(f"{url}/holds", _place_form("40.00", "Court order"))
    assert placed.status_code == 302
    request_id = request_id_in(teller_client.get(url).get_data(as_text=True))
    assert newest_request().action == "ledger.hold.place"
    assert _money(owned) == (10_000, 0)  # nothing held before approval
    hold_id = approve(request_id, approver).result["hold_id"]
    assert _money(owned) == (10_000, 4_000)
    # Capture part of it with htmx: the holds panel says the request awaits approval.
    partial = teller_client.htmx(
        "POST", f"{url}/holds/{hold_id}/capture", data={"capture-amount": "10.00"}
    )
    body = partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert "HX-Request" in partial.headers["Vary"]
    assert "<html" not in body
    assert body.lstrip().startswith('<section id="holds-panel"')
    assert "for 10.00 EUR awaits approval" in body
    request_id_in(body)
    assert _money(owned) == (10_000, 4_000)
    approve_newest(approver)
    assert _money(owned) == (9_000, 0)  # 10.00 posted, the other 30.00 released
    assert _status(hold_id) == "captured"
    # Capture all of another hold (no amount typed).
    teller_client.post_form(f"{url}/holds", _place_form("20.00", "Deposit guarantee"))
    second = approve_newest(approver).result["hold_id"]
    assert _money(owned) == (9_000, 2_000)
    response = teller_client.post_form(f"{url}/holds/{second}/capture", {"capture-amount": ""})
    assert response.status_code == 302
    assert newest_request().change["params"]["amount_minor"] == 2_000
    approve_newest(approver)
    assert _money(owned) == (7_000, 0)
    # Release a third.
    teller_client.post_form(f"{url}/holds", _place_form("5.00", "Dispute"))
    third = approve_newest(approver).result["hold_id"]
    response = teller_client.post_form(f"{url}/holds/{third}/release")
    assert response.status_code == 302
    assert _status(third) == "active"
    approve_newest(approver)
    assert _status(third) == "released"
    assert _money(owned) == (7_000, 0)
    html = teller_client.get(url).get_data(as_text=True)
    assert "captured" in html
    assert "released" in html


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_place_form(amount="-5"), "Write amounts like"),
        (_place_form(amount="0"), "The amount must be greater than zero."),
        (_place_form(amount="1.234"), "EUR amounts have at most 2 decimal places."),
        (_place_form(amount="200.00"), "Insufficient funds"),  # more than is available
        (_place_form(reason=""), "Give a reason for the hold."),
        (_place_form(reason="x" * 201), "Keep the reason under 200 characters."),
        (_place_form(expires="2000-01-01T00:00"), "The expiry must be in the future."),
        (_place_form(expires="tomorrow"), "Not a valid datetime value."),
        ({"hold-amount": "1.00", "hold-reason": "x"}, "Give the expiry as a date and time."),
        ({"hold-reason": "x", "hold-expires_at": _tomorrow()}, "Enter an amount."),
    ],
    ids=[
        "negative",
        "zero",
        "decimals",
        "insufficient",
        "no-reason",
        "long",
        "past",
        "bad-expiry",
        "no-expiry",
        "no-amount",
    ],
)
def test_a_bad_hold_is_refused_on_its_field(
    teller_client: WebClient, owned: Account, form: dict, message: str
) -> None:
    before = count_rows(ChangeRequest)
    response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/holds", data=form)
    body = response.get_data(as_text=True)
    assert 400 <= response.status_code < 500
    assert re.search('class="field-error">' + re.escape(message), body), body  # on its field
    assert "<html" not in body
    assert count_rows(ChangeRequest) == before
    plain = teller_client.post_form(f"/admin/accounts/{owned.id}/holds", form)
    assert 400 <= plain.status_code < 500
    assert message in plain.get_data(as_text=True)


def test_a_bad_capture_or_release_is_refused(
    teller_client: WebClient, admin: User, owned: Account
) -> None:
    hold_id = _place(owned, 2_500, "Card", admin)
    url = f"/admin/accounts/{owned.id}/holds/{hold_id}"
    over = teller_client.htmx("POST", f"{url}/capture", data={"capture-amount": "25.01"})
    assert over.status_code == 422
    assert "You cannot capture more than is held." in over.get_data(as_text=True)
    negative = teller_client.htmx("POST", f"{url}/capture", data={"capture-amount": "-1"})
    assert negative.status_code == 422
    assert 'id="capture-amount-' in negative.get_data(as_text=True)
    assert count_rows(ChangeRequest) == 0
    holds.release(hold_id, actor=admin)
    gone = teller_client.htmx("POST", f"{url}/release")
    assert gone.status_code == 409
    assert "is already released" in gone.get_data(as_text=True)
    assert count_rows(ChangeRequest) == 0


def test_a_hold_on_a_closed_account_is_refused_with_a_message(
    teller_client: WebClient, owned: Account
) -> None:
    db.session.execute(sa.update(Account).where(Account.id == owned.id).values(status="closed"))
    db.session.commit()
    html = teller_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert 'id="holds-panel"' in html
    assert 'id="hold-form"' not in html  # no forms on a closed account
    response = teller_client.htmx("POST", f"/admin/accounts/{owned.id}/holds", data=_place_form())
    assert response.status_code == 409
    assert f"Account {owned.number} is closed." in response.get_data(as_text=True)
    assert count_rows(ChangeRequest) == 0


def test_asking_twice_links_to_the_pending_request(
    teller_client: WebClient, admin: User, owned: Account
) -> None:
    hold_id = _place(owned, 2_500, "Card", admin)
    url = f"/admin/accounts/{owned.id}/holds/{hold_id}/release"
    first = teller_client.htmx("POST", url).get_data(as_text=True)
    again = teller_client.htmx("POST", url).get_data(as_text=True)
    assert "A request for this is already pending" in again
    assert request_id_in(first) == newest_request().id
    assert count_rows(ChangeRequest) == 1


def test_an_auditor_sees_the_holds_but_may_not_ask(
    auditor_client: WebClient, admin: User, owned: Account
) -> None:
    hold_id = _place(owned, 2_500, "Card", admin)
    html = auditor_client.get(f"/admin/accounts/{owned.id}").get_data(as_text=True)
    assert f'id="hold-{hold_id}"' in html
    assert "25.00 EUR" in _dd(html, "account-held")
    assert 'id="hold-form"' not in html
    assert "capture-form-" not in html
    assert "release-form-" not in html
    base = f"/admin/accounts/{owned.id}/holds"
    assert auditor_client.post_form(base, _place_form()).status_code == 403
    assert auditor_client.post_form(f"{base}/{hold_id}/capture").status_code == 403
    assert auditor_client.post_form(f"{base}/{hold_id}/release").status_code == 403
    assert count_rows(ChangeRequest) == 0


def test_unknown_or_another_accounts_hold_is_404(
    teller_client: WebClient, admin: User, owned: Account, other_customer_user: User
) -> None:
    elsewhere = factories.make_account(factories.customer_of(other_customer_user), "EUR", 5_000)
    theirs = _place(elsewhere, 1_000, "Theirs", admin)
    mine = _place(owned, 1_000, "Mine", admin)
    for action in ("capture", "release"):
        for path in (
            f"/admin/accounts/{owned.id}/holds/{theirs}/{action}",
            f"/admin/accounts/{owned.id}/holds/999999/{action}",
            f"/admin/accounts/{owned.id}/holds/99999999999/{action}",
            f"/admin/accounts/999999/holds/{mine}/{action}",
        ):
            assert teller_client.post_form(path).status_code == 404, path
    assert teller_client.post_form("/admin/accounts/999999/holds", _place_form()).status_code == 404
    assert count_rows(ChangeRequest) == 0


def test_the_customer_sees_held_available_and_active_holds(
    customer_client: WebClient, admin: User, owned: Account
) -> None:
    db.session.execute(
        sa.update(Account).where(Account.id == owned.id).values(overdraft_limit_minor=5_000)
    )
    db.session.commit()
    active = _place(owned, 2_500, "Card payment", admin)
    ended = _place(owned, 1_000, "Released one", admin)
    holds.release(ended, actor=admin)
    html = customer_client.get(f"/accounts/{owned.number}").get_data(as_text=True)
    assert "25.00 EUR" in _dd(html, "account-held")
    assert "125.00 EUR" in _dd(html, "account-available")
    assert "50.00 EUR" in _dd(html, "account-overdraft")
    assert f'id="hold-{active}"' in html
    assert "Card payment" in html
    assert "Released one" not in html
    assert not re.search(r"<form[^>]*holds", html)  # read-only


def test_the_customer_page_has_no_overdraft_or_holds_when_there_are_none(
    customer_client: WebClient, owned: Account
) -> None:
    html = customer_client.get(f"/accounts/{owned.number}").get_data(as_text=True)
    assert 'id="account-overdraft"' not in html
    assert 'id="account-holds"' not in html
    assert "100.00 EUR" in _dd(html, "account-available")
