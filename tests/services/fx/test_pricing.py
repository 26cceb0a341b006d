"""The rounding of a conversion: never more than one minor unit in the bank's favour, never
in the customer's (vaulta/services/ledger/fx/pricing.py)."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaulta.money import CURRENCY_EXPONENTS
from vaulta.services.ledger.fx import pricing

currencies = st.sampled_from(sorted(CURRENCY_EXPONENTS))
rates = st.decimals(
    min_value=Decimal("0.000001"), max_value=Decimal("100000"), places=6, allow_nan=False
)
amounts = st.integers(min_value=1, max_value=10_000_000_000)
spreads = st.integers(min_value=0, max_value=500)


def _exact_with_decimals(
    amount: int, source: str, target: str, rate: Decimal, inverted: bool, spread: int
) -> Decimal:
    """The same value computed independently, with 80 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 80
        market = 1 / rate if inverted else rate
        scale = Decimal(10) ** (CURRENCY_EXPONENTS[target] - CURRENCY_EXPONENTS[source])
        return Decimal(amount) * scale * market * (Decimal(10_000 - spread) / 10_000)


@given(amounts, currencies, currencies, rates, st.booleans(), spreads)
def test_the_customer_gets_the_exact_amount_less_under_one_minor_unit(
    amount: int, source: str, target: str, rate: Decimal, inverted: bool, spread: int
) -> None:
    received = pricing.to_amount(amount, source, target, rate, inverted=inverted, spread_bps=spread)
    exact = pricing.exact_to_amount(
        amount, source, target, rate, inverted=inverted, spread_bps=spread
    )
    assert isinstance(received, int)
    assert 0 <= exact - received < 1  # the bank's favour, by less than one minor unit
    approx = _exact_with_decimals(amount, source, target, rate, inverted, spread)
    with localcontext() as ctx:
        ctx.prec = 80
        assert abs(Decimal(exact.numerator) / Decimal(exact.denominator) - approx) < Decimal(
            "1e-40"
        )


@given(amounts, currencies, currencies, rates, st.booleans())
def test_the_spread_never_favours_the_customer(
    amount: int, source: str, target: str, rate: Decimal, inverted: bool
) -> None:
    with_spread = pricing.to_amount(amount, source, target, rate, inverted=inverted, spread_bps=50)
    without = pricing.to_amount(amount, source, target, rate, inverted=inverted, spread_bps=0)
    assert with_spread <= without


@given(rates, st.booleans(), spreads)
def test_the_rate_shown_is_rounded_down_to_twelve_places(
    rate: Decimal, inverted: bool, spread: int
) -> None:
    shown = pricing.display_rate(rate, inverted=inverted, spread_bps=spread)
    exact = pricing.customer_fraction(rate, inverted=inverted, spread_bps=spread)
    assert -shown.as_tuple().exponent <= 12  # type: ignore[operator]
    assert Fraction(shown) <= exact or Fraction(shown) == Fraction(1, 10**12)
    assert exact - Fraction(shown) < Fraction(1, 10**12)


def test_worked_examples() -> None:
    # 100.00 EUR at 1.0850 less 50 bps: 108.50 * 0.995 = 107.9575 USD -> 107.95
    assert (
        pricing.to_amount(10_000, "EUR", "USD", Decimal("1.0850"), inverted=False, spread_bps=50)
        == 10_795
    )
    # Only USD/EUR known (0.92): 100.00 EUR -> 100 / 0.92 * 0.995 = 108.152173... -> 108.15
    assert (
        pricing.to_amount(10_000, "EUR", "USD", Decimal("0.92"), inverted=True, spread_bps=50)
        == 10_815
    )
    # Exponents: 1,000 JPY at EUR/JPY 160 (inverted) -> 6.25 EUR * 0.995 = 6.21875 -> 6.21
    assert (
        pricing.to_amount(1_000, "JPY", "EUR", Decimal("160"), inverted=True, spread_bps=50) == 621
    )
    # 1.000 KWD -> JPY at 500.5, no spread: exactly 500 JPY (500.5 -> 500)
    assert (
        pricing.to_amount(1_000, "KWD", "JPY", Decimal("500.5"), inverted=False, spread_bps=0)
        == 500
    )
    assert pricing.display_rate(Decimal("1.0850"), inverted=False, spread_bps=50) == Decimal(
        "1.0795750"
    )


def test_a_spread_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="basis points"):
        pricing.customer_fraction(Decimal(1), inverted=False, spread_bps=10_000)
