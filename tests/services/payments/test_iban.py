"""IBANs: ISO 13616 mod-97, country lengths, normalisation; property-based with Hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaulta.services import iban
from vaulta.services.errors import InvalidInput

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@pytest.mark.parametrize(
    "text",
    [
        "GB82 WEST 1234 5698 7654 32",
        "gb82west12345698765432",
        "DE89 3704 0044 0532 0130 00",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "NO9386011117947",
    ],
)
def test_valid_ibans(text: str) -> None:
    assert iban.is_valid(text)
    assert iban.validate(text) == iban.normalise(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter"),
        ("GB82 WEST 1234 5698 7654 33", "check digits"),
        ("GB82 WEST 1234 5698 7654", "22 characters"),
        ("1234WEST12345698765432", "country code"),
        ("GB82-WEST-1234", "country code"),
        ("XX00123", "15 to 34"),
    ],
)
def test_invalid_ibans_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        iban.validate(text)
    assert err.value.field == "beneficiary_iban"


def test_display_groups_of_four() -> None:
    assert iban.display("GB82WEST12345698765432") == "GB82 WEST 1234 5698 7654 32"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(iban.IBAN_LENGTHS)))
    size = iban.IBAN_LENGTHS[country] - 4
    bban = draw(st.text(alphabet=ALPHANUMERIC, min_size=size, max_size=size))
    return iban.with_check_digits(country, bban)


@given(ibans())
def test_built_ibans_are_valid_however_they_are_typed(value: str) -> None:
    assert iban.is_valid(value)
    assert iban.is_valid(iban.display(value).lower())


@given(ibans(), st.data())
def test_any_single_character_change_is_caught(value: str, data: st.DataObject) -> None:
    """A digit typed for another digit, or a letter for another letter, never passes."""
    position = data.draw(st.integers(min_value=2, max_value=len(value) - 1))
    alphabet = "0123456789" if value[position].isdigit() else ALPHANUMERIC[10:]
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != value[position]))
    changed = value[:position] + replacement + value[position + 1 :]
    assert not iban.is_valid(changed)
