"""Reading payment files and checking their lines (CSV and pain.001.001.09): the file as a
whole is refused with a reason, each line's problem is named, and nothing is created."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.helpers import count_rows
from tests.services.changes.support import funded_account
from vaulta.models import ChangeRequest, Payment
from vaulta.services.errors import InvalidInput
from vaulta.services.payments import batch_files, batch_lines

FILES = Path(__file__).parent.parent.parent / "fixtures" / "payment_files"


def read(name: str) -> bytes:
    return (FILES / name).read_bytes()


def refused(data: bytes, name: str = "file.csv") -> str:
    with pytest.raises(InvalidInput) as caught:
        batch_files.parse(data, name)
    assert caught.value.field == "file"
    return caught.value.message


def test_a_good_csv_is_read_line_by_line(app: Flask) -> None:
    parsed = batch_files.parse(read("good.csv"), "good.csv")
    assert parsed.format == "csv"
    assert [line.line_no for line in parsed.lines] == [1, 2, 3]
    first = parsed.lines[0]
    assert (first.beneficiary_name, first.amount, first.currency) == ("Alpha GmbH", "120.50", "EUR")
    assert first.beneficiary_bic == "COBADEFFXXX"


def test_a_good_pain001_is_read_by_namespace(app: Flask) -> None:
    parsed = batch_files.parse(read("good_pain001.xml"), "good.xml")
    assert parsed.format == "pain.001.001.09"
    assert parsed.message_id == "MSG-0001"
    assert parsed.debtor_account == "DE02100100100006820101"
    one, two = parsed.lines
    assert (one.amount, one.currency, one.beneficiary_name) == ("1000.50", "EUR", "Alpha GmbH")
    assert (one.reference, one.remittance, one.beneficiary_bic) == (
        "E2E-1",
        "Invoice 2026-11",
        "COBADEFFXXX",
    )
    assert (two.beneficiary_iban, two.remittance) == ("GB82WEST12345698765432", "")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("malformed_pain001.xml", "malformed"),
        ("xxe_pain001.xml", "DTD"),
        ("bad_ctrlsum_pain001.xml", "CtrlSum"),
        ("bad_nboftxs_pain001.xml", "NbOfTxs 3"),
        ("latin1.csv", "not UTF-8"),
    ],
)
def test_unreadable_files_are_refused_whole(app: Flask, name: str, says: str) -> None:
    assert says in refused(read(name), name)


def test_an_entity_bomb_is_refused_before_expansion(app: Flask) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09">&lol2;</Document>'
    )
    assert "DTD" in refused(bomb, "bomb.xml")


def test_garbage_and_limits_are_refused(app: Flask) -> None:
    assert "empty" in refused(b"  \n")
    assert "header" in refused(b"\x00\x01garbage,,\n1,2\n")
    assert "no payments" in refused(b"beneficiary_name,beneficiary_iban,amount,currency\n")
    assert "pain.001.001.09" in refused(b"<Document xmlns='urn:other'/>", "x.xml")
    app.config["PAYMENT_FILE_MAX_LINES"] = 2
    assert "more than 2 payments" in refused(read("good.csv"))
    app.config["PAYMENT_FILE_MAX_BYTES"] = 100
    assert "larger than 100 bytes" in refused(read("good.csv"))


def test_preview_names_each_bad_line_and_creates_nothing(app: Flask) -> None:
    account = funded_account(1_000_00)
    preview = batch_lines.check_file(account.id, read("bad_iban_line3.csv"), "pay.csv")
    assert [line["line_no"] for line in preview.valid] == [1, 2]
    assert preview.totals == {"EUR": 30_00}
    problems = {e.line_no: (e.field, e.message) for e in preview.invalid}
    assert set(problems) == {3, 4, 5}
    assert problems[3][0] == "beneficiary_iban"
    assert problems[4][0] == "amount"
    assert problems[5][0] == "currency"
    assert count_rows(Payment) == 0
    assert count_rows(ChangeRequest) == 0


def test_formula_looking_text_is_refused_per_line(app: Flask) -> None:
    account = funded_account()
    preview = batch_lines.check_file(account.id, read("formula.csv"), "formula.csv")
    assert [line["line_no"] for line in preview.valid] == [3]
    assert {e.line_no: e.field for e in preview.invalid} == {
        1: "beneficiary_name",
        2: "remittance",
    }
    assert all("formula" in e.message for e in preview.invalid)


def test_a_pain001_debiting_another_account_number_is_refused(app: Flask) -> None:
    account = funded_account()
    other = read("good_pain001.xml").replace(
        b"<IBAN>DE02100100100006820101</IBAN>", b"<Othr><Id>999999999999</Id></Othr>"
    )
    with pytest.raises(InvalidInput, match="debits account 999999999999"):
        batch_lines.check_file(account.id, other, "other.xml")


def test_a_csv_row_of_the_wrong_width_is_a_line_error(app: Flask) -> None:
    account = funded_account()
    data = read("good.csv") + b"Too,few\n"
    preview = batch_lines.check_file(account.id, data, "x.csv")
    assert len(preview.valid) == 3
    (error,) = preview.invalid
    assert (error.line_no, error.field) == (4, "line")
