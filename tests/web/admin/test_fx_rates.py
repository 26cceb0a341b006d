"""/admin/fx-rates: the rates in force and their history for staff who read the bank
(``fx.read``), filtered by currency, in keyset pages."""

from __future__ import annotations

from flask import Flask

from tests.webclient import WebClient
from vaulta.services.ledger.fx import rates

RATES = """base,quote,rate,valid_from
EUR,USD,1.0800,2026-01-01T00:00:00Z
EUR,USD,1.0850,2026-02-01T00:00:00Z
USD,JPY,150.25,2026-01-01T00:00:00Z
EUR,GBP,0.8600,2099-01-01T00:00:00Z
"""


def test_the_page_lists_rates_in_force_and_history(app: Flask, auditor_client: WebClient) -> None:
    rates.import_rates(RATES, source="ECB <feed>", actor=None)
    response = auditor_client.get("/admin/fx-rates")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    current = html.split('class="striped fx-rates-current"')[1].split("</table>")[0]
    assert "EUR/USD</td><td>1.0850" in current
    assert "1.0800" not in current  # superseded
    assert "USD/JPY</td><td>150.25" in current
    assert "EUR/GBP" not in current  # not yet in force
    history = html.split('class="striped fx-rates-history"')[1].split("</table>")[0]
    for rate in ("1.0800", "1.0850", "150.25", "0.8600"):
        assert rate in history
    assert "ECB &lt;feed&gt;" in html  # autoescaped
    assert 'href="/admin/fx-rates"' in html  # in the navigation


def test_filters_and_pages(app: Flask, teller_client: WebClient) -> None:
    app.config["PAGE_SIZE"] = 2
    rates.import_rates(RATES, source="feed", actor=None)
    html = teller_client.get("/admin/fx-rates?base=EUR&quote=USD").get_data(as_text=True)
    assert "USD/JPY" not in html
    assert "EUR/USD</td><td>1.0850" in html
    page_one = teller_client.get("/admin/fx-rates").get_data(as_text=True)
    assert 'rel="next"' in page_one
    partial = teller_client.get(
        "/admin/fx-rates?before=3", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in partial
    assert "1.0850" in partial
    assert "1.0800" in partial
    assert teller_client.get("/admin/fx-rates?base=XXX").status_code == 422


def test_admins_and_customers_may_not_see_it(
    admin_client: WebClient,
) -> None:
    assert admin_client.get("/admin/fx-rates").status_code == 403
