"""IBANs and BICs of external beneficiaries (schwifty): formats, check digits, messages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from vaulta.services.errors import InvalidInput
from vaulta.services.payments import iban

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
COUNTRIES = ["AT", "BE", "CH", "DE", "ES", "FR", "GB", "IE", "IT", "MT", "NL", "NO", "PL", "SA"]


@pytest.mark.parametrize(
    ("text", "compact"),
    [
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("gb82west12345698765432", "GB82WEST12345698765432"),
        (" de89 3704 0044 0532 0130 00 ", "DE89370400440532013000"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("NO93 8601 1117 947", "NO9386011117947"),
        ("CH93 0076 2011 6238 5295 7", "CH9300762011623852957"),
        ("SA03 8000 0000 6080 1016 7519", "SA0380000000608010167519"),
    ],
)
def test_valid_ibans_of_several_countries_come_back_compact(text: str, compact: str) -> None:
    assert iban.validate(text) == compact


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter the beneficiary's IBAN."),
        ("   ", "Enter the beneficiary's IBAN."),
        ("GB82 WEST 1234 5698 7654 33", "check digits do not match"),
        ("DE00 3704 0044 0532 0130 00", "check digits do not match"),
        ("GB82 WEST 1234 5698 7654", "An IBAN from GB has 22 characters; this one has 20."),
        ("DE89 3704 0044 0532 0130 0012", "An IBAN from DE has 22 characters; this one has 24."),
        ("NO93 8601 1117 9470", "An IBAN from NO has 15 characters; this one has 16."),
        ("GB82 WEST 1234 5698 7654 3X", "This is not how an IBAN from GB is written."),
        ("XX00 1234 5678 9012 3", "XX is not a country that uses IBANs."),
        ("1234WEST12345698765432", "starts with a country code and two check digits"),
        ("GB82-WEST-1234", "starts with a country code and two check digits"),
        ("GBAB WEST 1234 5698 7654 32", "starts with a country code and two check digits"),
    ],
)
def test_invalid_ibans_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        iban.validate(text)
    assert err.value.field == "beneficiary_iban"


def test_the_api_names_its_own_field() -> None:
    with pytest.raises(InvalidInput) as err:
        iban.validate("GB00WEST12345698765432", field="beneficiary.iban")
    assert err.value.field == "beneficiary.iban"


def test_display_groups_of_four() -> None:
    assert iban.display("GB82WEST12345698765432") == "GB82 WEST 1234 5698 7654 32"


@pytest.mark.parametrize(
    ("text", "compact"),
    [
        ("DEUTDEFF", "DEUTDEFF"),
        ("deutdeff500", "DEUTDEFF500"),
        ("NWBK GB 2L", "NWBKGB2L"),
        ("COBADEFFXXX", "COBADEFFXXX"),
        ("", None),
        ("  ", None),
    ],
)
def test_valid_bics_come_back_compact_and_empty_is_none(text: str, compact: str | None) -> None:
    assert iban.validate_bic(text) == compact


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("DEUT", "A BIC has 8 or 11 characters; this one has 4."),
        ("DEUTDEFF5X", "A BIC has 8 or 11 characters; this one has 10."),
        ("DEUTZZFF", "ZZ in this BIC is not a country code."),
        ("DEUTDE-F", "letters and digits"),
    ],
)
def test_invalid_bics_say_why(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        iban.validate_bic(text)
    assert err.value.field == "beneficiary_bic"


@st.composite
def ibans(draw: st.DrawFn) -> str:
    """A valid IBAN of one of COUNTRIES, laid out as that country's format says."""
    country = draw(st.sampled_from(COUNTRIES))
    random = draw(st.randoms(use_true_random=False))
    return str(IBAN.random(country_code=country, random=random, use_registry=False))


@given(ibans())
def test_generated_ibans_are_valid_however_they_are_typed(value: str) -> None:
    assert iban.validate(value) == value
    assert iban.validate(iban.display(value).lower()) == value


@given(ibans(), st.data())
def test_any_single_character_change_is_caught(value: str, data: st.DataObject) -> None:
    """A digit typed for another digit, or a letter for another letter, never passes."""
    position = data.draw(st.integers(min_value=2, max_value=len(value) - 1))
    alphabet = "0123456789" if value[position].isdigit() else ALPHANUMERIC[10:]
    replacement = data.draw(st.sampled_from(alphabet).filter(lambda c: c != value[position]))
    changed = value[:position] + replacement + value[position + 1 :]
    with pytest.raises(InvalidInput):
        iban.validate(changed)
