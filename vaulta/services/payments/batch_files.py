"""Reading payment files: a CSV with documented columns or an ISO 20022 ``pain.001.001.09``
credit-transfer initiation. Reading only: every line comes back as text (``RawLine``) for
``batch_lines`` to check with the same rules as a one-off payment.

A file that cannot be read as a whole (not UTF-8, malformed XML, a DTD or entity, the wrong
namespace, a header's NbOfTxs or CtrlSum that does not match its lines, too big, too many
lines, no lines) raises ``InvalidInput`` on the field ``file``: a 422 with the reason, and
nothing is created. The columns and the pain.001 subset: docs/payment-files.md.

XML is parsed by defusedxml with DTDs forbidden (no entities, no external references, no
network): an XXE or billion-laughs file is refused before any element is read.
"""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring
from flask import current_app

from vaulta.money import AmountError, parse_decimal
from vaulta.services.errors import InvalidInput

FORMAT_CSV = "csv"
FORMAT_PAIN001 = "pain.001.001.09"
PAIN001_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CSV_COLUMNS = (
    "beneficiary_name",
    "beneficiary_iban",
    "beneficiary_bic",
    "amount",
    "currency",
    "reference",
    "remittance",
)
REQUIRED_COLUMNS = ("beneficiary_name", "beneficiary_iban", "amount", "currency")
FIELD_MAX = 500  # characters of one cell kept for the per-line checks and messages


@dataclass(frozen=True)
class RawLine:
    """One line as the file gave it (text, unchecked). ``line_no`` counts from 1 over
    the payments in the file (the CSV's header is not a line)."""

    line_no: int
    beneficiary_name: str
    beneficiary_iban: str
    beneficiary_bic: str
    amount: str
    currency: str
    reference: str
    remittance: str
    problem: str | None = None  # the line cannot be read (a CSV row of the wrong width)


@dataclass(frozen=True)
class ParsedFile:
    format: str
    lines: list[RawLine]
    debtor_account: str | None = None  # pain.001's DbtrAcct (IBAN or Othr/Id), if given
    message_id: str | None = None


def refuse(message: str) -> InvalidInput:
    return InvalidInput(message, field="file")


def max_lines() -> int:
    return int(current_app.config["PAYMENT_FILE_MAX_LINES"])


def parse(data: bytes, filename: str = "") -> ParsedFile:
    """The file's lines; InvalidInput(field="file") when it cannot be read as a whole."""
    if len(data) > int(current_app.config["PAYMENT_FILE_MAX_BYTES"]):
        raise refuse(
            f"The file is larger than {current_app.config['PAYMENT_FILE_MAX_BYTES']} bytes."
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise refuse(f"The file is not UTF-8 text (byte {err.start + 1}).") from None
    if not text.strip():
        raise refuse("The file is empty.")
    if text.lstrip().startswith("<") or filename.lower().endswith(".xml"):
        parsed = _parse_pain001(data)
    else:
        parsed = _parse_csv(text)
    if not parsed.lines:
        raise refuse("The file has no payments.")
    return parsed


def _cell(value: str | None) -> str:
    return (value or "")[:FIELD_MAX]


def _parse_csv(text: str) -> ParsedFile:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except (csv.Error, StopIteration):
        raise refuse("The CSV has no header line.") from None
    columns = [c.strip().lower() for c in header]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if unknown or missing or len(set(columns)) != len(columns):
        raise refuse(
            "The CSV header must name the columns " + ",".join(CSV_COLUMNS) + " (each once; "
            f"{', '.join(REQUIRED_COLUMNS)} required)."
            + (f" Unknown: {', '.join(unknown)[:200]}." if unknown else "")
            + (f" Missing: {', '.join(missing)}." if missing else "")
        )
    lines: list[RawLine] = []
    limit = max_lines()
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue  # blank lines are not payments
            if len(lines) >= limit:
                raise refuse(f"The file has more than {limit} payments.")
            values = dict.fromkeys(CSV_COLUMNS, "")
            values.update(zip(columns, (_cell(c) for c in row), strict=False))
            problem = None
            if len(row) != len(columns):
                problem = f"The line has {len(row)} values for {len(columns)} columns."
            lines.append(_csv_line(len(lines) + 1, values, problem))
    except csv.Error as err:
        raise refuse(f"The CSV cannot be read at line {reader.line_num}: {err}.") from None
    return ParsedFile(FORMAT_CSV, lines)


def _csv_line(line_no: int, values: dict[str, str], problem: str | None) -> RawLine:
    return RawLine(
        line_no=line_no,
        beneficiary_name=values["beneficiary_name"],
        beneficiary_iban=values["beneficiary_iban"],
        beneficiary_bic=values["beneficiary_bic"],
        amount=values["amount"],
        currency=values["currency"],
        reference=values["reference"],
        remittance=values["remittance"],
        problem=problem,
    )


def _q(*names: str) -> str:
    return "/".join(f"{{{PAIN001_NS}}}{name}" for name in names)


def _text(element: Element | None, *path: str) -> str:
    if element is None:
        return ""
    found = element.find(_q(*path)) if path else element
    return _cell((found.text or "").strip()) if found is not None else ""


def _decimal(text: str, what: str) -> Decimal:
    try:
        return parse_decimal(text)
    except AmountError:
        raise refuse(f"The group header's {what} is not a number: {text[:40]!r}.") from None


def _parse_pain001(data: bytes) -> ParsedFile:
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise refuse("The XML declares a DTD or entities; they are not accepted.") from None
    except ParseError as err:
        raise refuse(f"The XML is malformed: {err}.") from None
    if root.tag != f"{{{PAIN001_NS}}}Document":
        raise refuse(f"The XML is not a pain.001.001.09 document (namespace {PAIN001_NS}).")
    initiation = root.find(_q("CstmrCdtTrfInitn"))
    if initiation is None:
        raise refuse("The document has no CstmrCdtTrfInitn.")
    header = initiation.find(_q("GrpHdr"))
    if header is None:
        raise refuse("The document has no group header (GrpHdr).")
    lines: list[RawLine] = []
    amounts: list[Decimal] = []
    debtors: set[str] = set()
    limit = max_lines()
    for info in initiation.findall(_q("PmtInf")):
        debtor = _text(info, "DbtrAcct", "Id", "IBAN") or _text(
            info, "DbtrAcct", "Id", "Othr", "Id"
        )
        debtors.add(debtor.replace(" ", ""))
        for tx in info.findall(_q("CdtTrfTxInf")):
            if len(lines) >= limit:
                raise refuse(f"The file has more than {limit} payments.")
            amount = tx.find(_q("Amt", "InstdAmt"))
            amount_text = _text(amount)
            with contextlib.suppress(AmountError):  # the line's own check reports it
                amounts.append(parse_decimal(amount_text))
            lines.append(
                RawLine(
                    line_no=len(lines) + 1,
                    beneficiary_name=_text(tx, "Cdtr", "Nm"),
                    beneficiary_iban=_text(tx, "CdtrAcct", "Id", "IBAN"),
                    beneficiary_bic=_text(tx, "CdtrAgt", "FinInstnId", "BICFI"),
                    amount=amount_text,
                    currency=_cell(amount.get("Ccy", "")) if amount is not None else "",
                    reference=_text(tx, "PmtId", "EndToEndId"),
                    remittance=_text(tx, "RmtInf", "Ustrd"),
                )
            )
    _check_header(header, lines, amounts)
    if len(debtors) > 1:
        raise refuse("All payment information blocks must debit the same account (DbtrAcct).")
    return ParsedFile(
        FORMAT_PAIN001,
        lines,
        debtor_account=next(iter(debtors), None) or None,
        message_id=_text(header, "MsgId") or None,
    )


def _check_header(header: Element, lines: list[RawLine], amounts: list[Decimal]) -> None:
    count_text = _text(header, "NbOfTxs")
    if not count_text.isdigit() or int(count_text) != len(lines):
        raise refuse(
            f"The group header says NbOfTxs {count_text[:20] or '(missing)'} but the file "
            f"has {len(lines)} transactions."
        )
    control_text = _text(header, "CtrlSum")
    if control_text:
        control = _decimal(control_text, "CtrlSum")
        total = sum(amounts, Decimal(0))
        if len(amounts) != len(lines) or control != total:
            raise refuse(
                f"The group header's CtrlSum {control_text[:40]} does not match the sum of "
                f"the amounts ({total})."
            )
