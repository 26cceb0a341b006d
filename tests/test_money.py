"""Money: the one amount grammar, Decimal parsing into minor units, and formatting."""

from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from vaulta.money import (
    CURRENCY_EXPONENTS,
    HOW_TO_WRITE,
    AmountError,
    format_amount,
    format_plain,
    parse_amount,
    parse_decimal,
)

CURRENCIES = st.sampled_from(sorted(CURRENCY_EXPONENTS))
ALLOWED = set("0123456789,.")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12.5", "EUR", 1250),
        ("12", "EUR", 1200),
        ("1,234.56", "EUR", 123456),
        ("1,234", "EUR", 123400),
        ("1,234,567", "EUR", 123456700),
        ("1234567.89", "EUR", 123456789),
        (" 0.01 ", "USD", 1),
        ("500", "JPY", 500),
        ("1,500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("007", "EUR", 700),
    ],
)
def test_parse_amount(text: str, currency: str, minor: int) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    "text",
    [
        "12,50",  # a decimal comma: once stored as 1,250.00
        "1,00",
        "1,2345",
        "1,23",
        "0,123",  # a decimal comma too, not 123
        "1,234,56",
        "1.234,56",
        ",123",
        "1,,234",
        "1,234,",
        "1 234",
        "1_234",
        "1'234",
        "1\u00a0234",  # no-break space
        "1\u202f234",  # narrow no-break space
        "\u0661\u0660\u0660",  # Arabic-Indic 100
        "\uff11\uff10\uff10",  # fullwidth 100
        "\u0967\u0966",  # Devanagari 10
        "+5",
        "-5",
        "5.",
        ".5",
        "1.2.3",
        "1e3",
        "1E3",
        "NaN",
        "Infinity",
        "0x10",
        "abc",
        "12.50 EUR",
        "€12",
        "1" * 41,
    ],
)
def test_the_grammar_refuses_and_says_how_to_write_amounts(text: str) -> None:
    with pytest.raises(AmountError) as refused:
        parse_amount(text, "EUR")
    assert str(refused.value) == HOW_TO_WRITE
    with pytest.raises(AmountError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("12.345", "EUR", "at most 2 decimal places"),
        ("1.070", "EUR", "at most 2 decimal places"),
        ("1.5", "JPY", "no minor unit"),
        ("", "EUR", "Enter an amount"),
        ("   ", "EUR", "Enter an amount"),
        ("0", "EUR", "greater than zero"),
        ("0.00", "EUR", "greater than zero"),
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


@given(minor=st.integers(min_value=1, max_value=10**15), currency=CURRENCIES)
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    assert parse_amount(format_amount(minor, currency, with_currency=False), currency) == minor
    assert parse_amount(format_plain(minor, currency), currency) == minor


@given(whole=st.integers(min_value=0, max_value=10**12), fraction=st.text("0123456789", max_size=3))
def test_grouped_and_plain_forms_read_the_same(whole: int, fraction: str) -> None:
    point = f".{fraction}" if fraction else ""
    assert parse_decimal(f"{whole:,}{point}") == parse_decimal(f"{whole}{point}")
    assert parse_decimal(f"{whole}{point}") == Decimal(f"{whole}{point}")


@given(whole=st.integers(min_value=0, max_value=10**6), cents=st.integers(0, 99))
def test_a_decimal_comma_is_never_read_as_grouping(whole: int, cents: int) -> None:
    for text in (f"{whole},{cents:02d}", f"{whole},{cents}"):
        with pytest.raises(AmountError, match="commas only between groups of three"):
            parse_decimal(text)


@given(
    head=st.integers(min_value=1, max_value=999),
    group=st.text("0123456789", min_size=1, max_size=6).filter(lambda g: len(g) != 3),
)
def test_comma_groups_other_than_three_digits_are_refused(head: int, group: str) -> None:
    with pytest.raises(AmountError):
        parse_decimal(f"{head},{group}")
    with pytest.raises(AmountError):
        parse_decimal(f"{head},{group}.50")


@given(text=st.text(min_size=1, max_size=20))
def test_anything_but_ascii_digits_commas_and_a_point_is_refused(text: str) -> None:
    assume(not set(text.strip(" \t\r\n")) <= ALLOWED)
    with pytest.raises(AmountError):
        parse_decimal(text)


@given(
    digit=st.characters(categories=["Nd"]).filter(lambda c: c not in "0123456789"),
    amount=st.integers(min_value=1, max_value=10**6),
)
def test_digits_of_other_scripts_are_refused(digit: str, amount: int) -> None:
    for text in (digit, f"{amount}{digit}", f"{digit}.50", f"1,{digit}00"):
        with pytest.raises(AmountError):
            parse_decimal(text)


@given(
    amount=st.integers(min_value=1, max_value=10**9),
    sign=st.sampled_from(["+", "-"]),
    exponent=st.integers(min_value=-5, max_value=5),
)
def test_signs_exponents_and_bare_points_are_refused(amount: int, sign: str, exponent: int) -> None:
    for text in (f"{sign}{amount}", f"{amount}e{exponent}", f"{amount}E{exponent}", f"{amount}."):
        with pytest.raises(AmountError):
            parse_decimal(text)
    with pytest.raises(AmountError):
        parse_decimal(f".{amount}")


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
