"""The checker inbox: a teller's request waits there, another person approves or rejects
it (htmx rows and plain posts), the money moves only then, and never on the maker's word."""

from __future__ import annotations

import re

from tests import factories
from tests.helpers import audit_actions, balance, mailed_code
from tests.web.accounts.conftest import idempotency_key
from tests.web.inbox.conftest import deposit_request
from tests.webclient import WebClient
from vaulta.models import Account, User
from vaulta.services.changes import change_requests

STEP_UP_SUBJECT = "VAULTA approval code for change request #{}"


def _teller_deposits(client: WebClient, account: Account, amount: str) -> str:
    """The teller's deposit through the account page (form, then confirm), as htmx."""
    html = client.get(f"/admin/accounts/{account.id}").get_data(as_text=True)
    data = {
        "deposit-amount": amount,
        "deposit-description": "Counter",
        "deposit-idempotency_key": idempotency_key(html, "deposit"),
    }
    url = f"/admin/accounts/{account.id}/deposit"
    step = client.htmx("POST", url, data=data).get_data(as_text=True)
    token = re.search(r'name="deposit-confirmation"[^>]*value="([^"]+)"', step)
    if token is None:
        token = re.search(r'value="([^"]+)"[^>]*name="deposit-confirmation"', step)
    assert token is not None
    confirm = {"deposit-confirmation": token.group(1), "deposit-step": "confirm"}
    response = client.htmx("POST", url, data=confirm)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_teller_requests_approver_approves_then_the_balance_moves(
    client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    client.sign_in(teller)
    panel = _teller_deposits(client, owned, "250.00")
    made = re.search(r'href="/admin/requests/(\d+)">Request #(\d+)</a> for 250.00 EUR', panel)
    assert made is not None, panel
    assert "awaits approval." in panel
    request_id = int(made.group(1))
    assert balance(owned) == 10_000  # nothing moved yet
    # The maker sees it among their own and cannot decide it.
    mine = client.get("/admin/inbox/mine").get_data(as_text=True)
    assert f'id="my-request-{request_id}"' in mine
    assert client.post_form(f"/admin/requests/{request_id}/approve").status_code == 403

    client.sign_in(approver)
    inbox = client.get("/admin/inbox")
    html = inbox.get_data(as_text=True)
    assert inbox.status_code == 200
    assert f'id="request-row-{request_id}"' in html
    assert "Deposit 250.00 EUR into" in html
    assert "<del>" in html
    assert "350.00 EUR" in html
    row = client.htmx("POST", f"/admin/requests/{request_id}/approve", data={})
    assert row.status_code == 200
    assert row.headers["HX-Trigger"] == "requests-changed"
    html = row.get_data(as_text=True)
    assert 'data-status="approved"' in html
    assert "Approved and done" in html
    assert balance(owned) == 35_000
    assert client.get("/admin/inbox/count").get_data(as_text=True).count(">0<") == 1
    assert "change_request.execute" in audit_actions("change_request", request_id)


def test_plain_posts_land_on_the_request_page(
    client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 1_500)
    client.sign_in(approver)
    response = client.post_form(f"/admin/requests/{made.id}/approve")
    assert response.status_code == 302
    assert response.location == f"/admin/requests/{made.id}"
    page = client.get(response.location).get_data(as_text=True)
    assert f"Request #{made.id}: Approved and done" in page
    assert 'id="decisions"' in page
    assert approver.full_name in page
    assert "version 1" in page
    assert balance(owned) == 11_500


def test_reject_needs_a_reason_and_moves_nothing(
    approver_client: WebClient, teller: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 700)
    form = approver_client.htmx("GET", f"/admin/requests/{made.id}/reject")
    assert 'name="reason"' in form.get_data(as_text=True)
    empty = approver_client.htmx("POST", f"/admin/requests/{made.id}/reject", data={"reason": ""})
    assert empty.status_code == 422
    assert "Give a reason." in empty.get_data(as_text=True)
    done = approver_client.htmx(
        "POST", f"/admin/requests/{made.id}/reject", data={"reason": "No cash seen"}
    )
    assert done.status_code == 200
    assert 'data-status="rejected"' in done.get_data(as_text=True)
    page = approver_client.get(f"/admin/requests/{made.id}").get_data(as_text=True)
    assert "No cash seen" in page
    again = approver_client.htmx("POST", f"/admin/requests/{made.id}/approve", data={})
    assert again.status_code == 409
    assert balance(owned) == 10_000


def test_the_maker_cancels_a_pending_request_and_no_one_else_can(
    client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 900)
    client.sign_in(approver)
    assert client.post_form(f"/admin/requests/{made.id}/cancel").status_code == 403
    client.sign_in(teller)
    response = client.htmx("POST", f"/admin/requests/{made.id}/cancel", data={})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Request #{made.id} is cancelled." in html
    assert 'data-status="cancelled"' in html
    assert client.post_form(f"/admin/requests/{made.id}/cancel").status_code == 409
    client.sign_in(approver)
    assert f"request-row-{made.id}" not in client.get("/admin/inbox").get_data(as_text=True)


def test_a_duplicate_request_links_to_the_first(
    teller_client: WebClient, teller: User, owned: Account
) -> None:
    first = deposit_request(teller, owned, 250)
    panel = _teller_deposits(teller_client, owned, "2.50")
    assert "A request for this is already pending:" in panel
    assert f'href="/admin/requests/{first.id}">Request #{first.id}</a>' in panel


def test_second_approver_needs_a_mailed_code_at_ten_thousand(
    client: WebClient, teller: User, approver: User, second_approver: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 1_000_000)  # 10,000.00 EUR
    assert made.levels_required == 2
    client.sign_in(approver)
    first = client.htmx("POST", f"/admin/requests/{made.id}/approve", data={})
    assert first.status_code == 200
    assert "Level 1 of 2 approved" in first.get_data(as_text=True)
    again = client.htmx("POST", f"/admin/requests/{made.id}/approve", data={})
    assert again.status_code in (403, 409)  # one person decides once
    assert balance(owned) == 10_000

    client.sign_in(second_approver)
    row = client.get("/admin/inbox").get_data(as_text=True)
    assert "Mail me a code" in row
    no_code = client.htmx("POST", f"/admin/requests/{made.id}/approve", data={})
    assert no_code.status_code == 422
    assert "one-time code" in no_code.get_data(as_text=True)
    sent = client.htmx("POST", f"/admin/requests/{made.id}/code", data={})
    assert sent.status_code == 200
    assert "We mailed you a one-time code" in sent.get_data(as_text=True)
    code = mailed_code(second_approver.email, STEP_UP_SUBJECT.format(made.id))
    wrong = "000000" if code != "000000" else "111111"
    bad = client.htmx("POST", f"/admin/requests/{made.id}/approve", data={"code": wrong})
    assert bad.status_code == 422
    assert balance(owned) == 10_000
    done = client.htmx("POST", f"/admin/requests/{made.id}/approve", data={"code": code})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert 'data-status="approved"' in done.get_data(as_text=True)
    assert balance(owned) == 1_010_000


def test_bulk_approves_only_where_the_policy_allows(
    approver_client: WebClient, teller: User, owned: Account, customer_user: User
) -> None:
    other = factories.make_account(factories.make_customer("Bulk Other"), "EUR", 0)
    small = deposit_request(teller, owned, 100)
    large = deposit_request(teller, other, 1_200_000)  # two approvers, no bulk
    assert small.bulk_allowed
    assert not large.bulk_allowed
    inbox = approver_client.get("/admin/inbox").get_data(as_text=True)
    assert f'name="request_ids" value="{small.id}"' in inbox
    assert f'name="request_ids" value="{large.id}"' not in inbox
    response = approver_client.htmx(
        "POST", "/admin/inbox/bulk", data={"request_ids": [str(small.id), str(large.id)]}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Request #{small.id}: approved" in html
    assert f"Request #{large.id}: Its policy allows no bulk approval" in html
    assert balance(owned) == 10_100
    assert balance(other) == 0
    assert change_requests.get(large.id).status == "pending"


def test_filters_narrow_the_inbox(approver_client: WebClient, teller: User, owned: Account) -> None:
    other = factories.make_account(factories.make_customer("Filter Other"), "EUR", 0)
    small = deposit_request(teller, owned, 100)
    big = deposit_request(teller, other, 50_000)
    html = approver_client.get(
        "/admin/inbox", query_string={"currency": "EUR", "min_amount": "100"}
    ).get_data(as_text=True)
    assert f"request-row-{big.id}" in html
    assert f"request-row-{small.id}" not in html
    html = approver_client.get(
        "/admin/inbox", query_string={"maker": teller.email, "action": "ledger.deposit"}
    ).get_data(as_text=True)
    assert f"request-row-{big.id}" in html
    assert f"request-row-{small.id}" in html
    refused = approver_client.get("/admin/inbox", query_string={"min_amount": "5"})
    assert refused.status_code == 422
    assert "Choose a currency" in refused.get_data(as_text=True)
    partial = approver_client.htmx("GET", "/admin/inbox?age=3d")
    assert partial.status_code == 200
    assert "Nothing waits for your decision." in partial.get_data(as_text=True)


def test_a_maker_who_is_also_an_approver_never_decides_their_own(
    client: WebClient, owned: Account
) -> None:
    both = factories.make_staff("both@example.test", "teller", "approver")
    made = deposit_request(both, owned, 800)
    client.sign_in(both)
    inbox = client.get("/admin/inbox").get_data(as_text=True)
    assert f"request-row-{made.id}" not in inbox  # not offered to its maker
    assert 'href="/admin/inbox/mine">My requests</a>' in inbox
    refused = client.htmx("POST", f"/admin/requests/{made.id}/approve", data={})
    assert refused.status_code == 403
    assert "Four eyes" in refused.get_data(as_text=True)
    assert refused.headers["HX-Retarget"] == "#messages"
    plain = client.post_form(f"/admin/requests/{made.id}/reject", {"reason": "Mine"})
    assert plain.status_code == 403
    assert balance(owned) == 10_000
    assert change_requests.get(made.id).status == "pending"


def test_the_nav_counts_what_the_approver_may_decide(
    approver_client: WebClient, teller: User, owned: Account
) -> None:
    page = approver_client.get("/admin/inbox").get_data(as_text=True)
    assert 'hx-get="/admin/inbox/count"' in page
    deposit_request(teller, owned, 100)
    deposit_request(teller, owned, 200)
    badge = approver_client.htmx("GET", "/admin/inbox/count").get_data(as_text=True)
    assert 'id="inbox-count"' in badge
    assert ">2</mark>" in badge
    assert "every 30s" in badge


def test_a_malformed_code_or_reason_is_422_on_its_field(
    approver_client: WebClient, teller: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 100)
    url = f"/admin/requests/{made.id}/approve"
    code = approver_client.htmx("POST", url, data={"code": "12ab"})
    assert code.status_code == 422
    assert "The code has 6 digits." in code.get_data(as_text=True)
    reason = approver_client.htmx("POST", url, data={"reason": "ok \u202e"})
    assert reason.status_code == 422
    assert "U+202E" in reason.get_data(as_text=True)
    assert change_requests.get(made.id).status == "pending"


def test_without_javascript_every_control_still_works(
    client: WebClient, teller: User, approver: User, owned: Account
) -> None:
    made = deposit_request(teller, owned, 300)
    client.sign_in(approver)
    opened = client.get(f"/admin/requests/{made.id}/reject")
    assert opened.status_code == 302
    page = client.get(opened.location).get_data(as_text=True)
    assert f'id="reason-{made.id}"' in page  # the inbox with the row's reason form open
    missing = client.post_form(f"/admin/requests/{made.id}/reject", {"reason": ""})
    assert missing.status_code == 302
    assert "Give a reason." in client.get(missing.location).get_data(as_text=True)
    big = deposit_request(teller, owned, 2_000_000)
    first = factories.make_staff("lvl1@example.test", "approver")
    change_requests.approve(big.id, actor=first)
    sent = client.post_form(f"/admin/requests/{big.id}/code")
    assert sent.status_code == 302
    page = client.get(sent.location).get_data(as_text=True)
    assert "We mailed you a one-time code" in page
    assert f'id="code-{big.id}"' in page  # the request's page carries the decision row
    code = mailed_code(approver.email, STEP_UP_SUBJECT.format(big.id))
    done = client.post_form(f"/admin/requests/{big.id}/approve", {"code": code})
    assert done.status_code == 302
    assert "Approved and done" in client.get(done.location).get_data(as_text=True)
    assert balance(owned) == 2_010_000


def test_a_filter_error_is_swapped_in_beside_the_filters(
    approver_client: WebClient,
) -> None:
    response = approver_client.htmx("GET", "/admin/inbox?currency=EUR&max_amount=1,00")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<div id="inbox-filter-errors" hx-swap-oob="true">' in html
    assert "commas only between groups of three digits" in html
    assert '<div id="inbox">' in html
