"""Money: Decimal parsing into minor units and formatting."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaulta.money import CURRENCY_EXPONENTS, AmountError, format_amount, format_plain, parse_amount


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("1,234.56", "EUR", 123456),
        (" 0.01 ", "USD", 1),
        ("500", "JPY", 500),
        ("1.234", "KWD", 1234),
    ],
)
def test_parse_amount(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.345", "EUR", "at most 2 decimal places"),
        ("1.5", "JPY", "no minor unit"),
        ("", "EUR", "Enter an amount"),
        ("abc", "EUR", "Enter an amount like"),
        ("-5", "EUR", "Enter an amount like"),
        ("1e3", "EUR", "Enter an amount like"),
        ("0", "EUR", "greater than zero"),
        ("0.00", "EUR", "greater than zero"),
        ("NaN", "EUR", "Enter an amount like"),
        ("10", "XXX", "Unsupported currency"),
    ],
)
def test_parse_amount_refuses(text: str, currency: str, message: str) -> None:
    with pytest.raises(AmountError, match=message):
        parse_amount(text, currency)


def test_format_amount() -> None:
    assert format_amount(123456, "EUR") == "1,234.56 EUR"
    assert format_amount(-5, "EUR") == "-0.05 EUR"
    assert format_amount(500, "JPY") == "500 JPY"
    assert format_plain(123456, "EUR") == "1234.56"


@given(
    minor=st.integers(min_value=1, max_value=10**15),
    currency=st.sampled_from(sorted(CURRENCY_EXPONENTS)),
)
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_amount(format_amount(minor, currency, with_currency=False), currency) == minor
    assert parse_amount(format_plain(minor, currency), currency) == minor


@given(st.decimals(min_value=Decimal("0.001"), max_value=Decimal("1e9"), places=3))
def test_never_rounds_silently(value: Decimal) -> None:
    """More decimals than the currency has are refused, even trailing zeros ("1.070" could
    be a German-style 1070), so nothing is ever rounded."""
    text = f"{value:f}"
    if len(text.partition(".")[2]) <= 2:
        assert parse_amount(text, "EUR") == int(value * 100)
    else:
        with pytest.raises(AmountError):
            parse_amount(text, "EUR")
