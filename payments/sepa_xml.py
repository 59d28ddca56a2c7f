"""The pain.008.001.08 file: built with sepaxml, checked against the ISO schema and the
German banks' rules before anyone can download it.

sepaxml writes one payment-information block per sequence type for one scheme. A file
holds one scheme only (CORE or B2B): the German banks take B2B collections in files of
their own, so the batches are split by scheme before a file is built. What sepaxml cannot
write is added afterwards on the parsed tree: the amendment details of a changed mandate,
and stable message and block ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import sepaxml
from lxml import etree
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaDD

from .sepa_text import ID_MAX, NAME_MAX, REMITTANCE_MAX, is_sepa_text, sepa_id, sepa_text

SCHEMA = "pain.008.001.08"
NS = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
SEQUENCE_TYPES = {"FRST", "RCUR", "OOFF", "FNAL"}
SCHEMES = {"CORE", "B2B"}
# Same Mandate, New Debtor Agent: the debtor moved the account to another bank.
SMNDA = "SMNDA"


class SepaFileError(Exception):
    """The file breaks the schema or a bank rule; ``problems`` says where."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class Creditor:
    name: str
    iban: str
    bic: str
    creditor_id: str


@dataclasses.dataclass(frozen=True)
class Collection:
    end_to_end_id: str
    amount: Decimal
    scheme: str
    sequence_type: str
    mandate_reference: str
    mandate_signed_on: dt.date
    debtor_name: str
    iban: str
    bic: str
    remittance: str
    original_reference: str = ""
    original_iban: str = ""


@lru_cache(maxsize=1)
def schema() -> etree.XMLSchema:
    path = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"
    return etree.XMLSchema(etree.parse(str(path)))


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _bank_of(iban: str) -> tuple[str, str]:
    try:
        parsed = IBAN(iban)
        return parsed.country_code, parsed.bank_code
    except SchwiftyException:
        return iban[:2], ""


def build(
    *, creditor: Creditor, collection_date: dt.date, message_id: str, collections: list[Collection]
) -> bytes:
    """The pain.008.001.08 message for ``collections``, validated (raises SepaFileError)."""
    schemes = {c.scheme for c in collections}
    if len(schemes) != 1:
        raise SepaFileError(["one scheme (CORE or B2B) per file"])
    config = {
        "name": sepa_text(creditor.name, NAME_MAX),
        "IBAN": creditor.iban,
        "BIC": creditor.bic,
        "batch": True,
        "creditor_id": creditor.creditor_id,
        "currency": "EUR",
        "instrument": schemes.pop(),
    }
    main = SepaDD(config, schema=SCHEMA, clean=True)
    for c in collections:
        payment = {
            "name": sepa_text(c.debtor_name, NAME_MAX),
            "IBAN": c.iban,
            "amount": _cents(c.amount),
            "type": c.sequence_type,
            "collection_date": collection_date,
            "mandate_id": c.mandate_reference,
            "mandate_date": c.mandate_signed_on,
            "description": sepa_text(c.remittance, REMITTANCE_MAX),
            "endtoend_id": c.end_to_end_id,
        }
        if c.bic:
            payment["BIC"] = c.bic
        main.add_payment(payment)
    raw = main.export(validate=False)
    tree = etree.fromstring(raw)
    _complete(tree, message_id=message_id, collections=collections)
    data = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    check(data, creditor=creditor)
    return data


def _q(tag: str) -> str:
    return "/".join(f"p:{part}" for part in tag.split("/"))


def _el(parent, tag: str, text: str | None = None):
    node = etree.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        node.text = text
    return node


def _complete(tree, *, message_id: str, collections: list[Collection]) -> None:
    ns = {"p": NS}
    tree.find(_q("CstmrDrctDbtInitn/GrpHdr/MsgId"), ns).text = message_id
    blocks = tree.findall(_q("CstmrDrctDbtInitn/PmtInf"), ns)
    for index, block in enumerate(blocks, start=1):
        block.find("p:PmtInfId", ns).text = f"{message_id}-{index}"[:ID_MAX]
    by_id = {c.end_to_end_id: c for c in collections if c.original_reference or c.original_iban}
    if not by_id:
        return
    for tx in tree.iterfind(".//p:DrctDbtTxInf", ns):
        c = by_id.get(tx.find(_q("PmtId/EndToEndId"), ns).text)
        if c is None:
            continue
        info = tx.find(_q("DrctDbtTx/MndtRltdInf"), ns)
        signed = info.find("p:DtOfSgntr", ns)
        indicator = etree.Element(f"{{{NS}}}AmdmntInd")
        indicator.text = "true"
        details = etree.Element(f"{{{NS}}}AmdmntInfDtls")
        if c.original_reference:
            _el(details, "OrgnlMndtId", c.original_reference)
        if c.original_iban:
            if _bank_of(c.original_iban) == _bank_of(c.iban):
                _el(_el(_el(details, "OrgnlDbtrAcct"), "Id"), "IBAN", c.original_iban)
            else:
                # Another bank: the new bank does not know the old account (EPC AT-24).
                _el(_el(_el(_el(details, "OrgnlDbtrAgt"), "FinInstnId"), "Othr"), "Id", SMNDA)
        signed.addnext(indicator)
        indicator.addnext(details)


def check(data: bytes, *, creditor: Creditor | None = None) -> None:
    """The ISO schema, then the German banks' subset rules; raises SepaFileError."""
    try:
        tree = etree.fromstring(data)
    except etree.XMLSyntaxError as exc:
        raise SepaFileError([f"XML: {exc}"]) from None
    xsd = schema()
    if not xsd.validate(tree):
        raise SepaFileError([f"XSD line {e.line}: {e.message}" for e in list(xsd.error_log)[:10]])
    problems = german_rules(tree, creditor=creditor)
    if problems:
        raise SepaFileError(problems)


def german_rules(tree, *, creditor: Creditor | None = None) -> list[str]:
    """What the German banks check beyond the schema (DFÜ-Abkommen Anlage 3)."""
    ns = {"p": NS}
    problems: list[str] = []
    texts = {
        ".//p:Cdtr/p:Nm": NAME_MAX,
        ".//p:Dbtr/p:Nm": NAME_MAX,
        ".//p:InitgPty/p:Nm": NAME_MAX,
        ".//p:RmtInf/p:Ustrd": REMITTANCE_MAX,
        ".//p:EndToEndId": ID_MAX,
        ".//p:MndtId": ID_MAX,
        ".//p:OrgnlMndtId": ID_MAX,
        ".//p:PmtInfId": ID_MAX,
        ".//p:MsgId": ID_MAX,
    }
    for path, limit in texts.items():
        for node in tree.iterfind(path, ns):
            value = node.text or ""
            tag = etree.QName(node).localname
            if not is_sepa_text(value):
                problems.append(f"{tag} “{value}”: characters outside the SEPA set")
            if len(value) > limit:
                problems.append(f"{tag} “{value}”: longer than {limit}")
            if tag in {"MndtId", "OrgnlMndtId", "EndToEndId", "PmtInfId", "MsgId"} and (
                "//" in value or value != value.strip()
            ):
                problems.append(f"{tag} “{value}”: “//” or a space at the start or end")
    creditor_ids = {n.text for n in tree.iterfind(".//p:CdtrSchmeId//p:Othr/p:Id", ns)}
    if len(creditor_ids) != 1:
        problems.append("one creditor id per file")
    elif creditor is not None and creditor_ids != {creditor.creditor_id}:
        problems.append("the creditor id is not the organization's")
    if len({n.text for n in tree.iterfind(".//p:CdtrAcct//p:IBAN", ns)}) != 1:
        problems.append("one creditor account per file")
    if len({n.text for n in tree.iterfind(".//p:PmtTpInf/p:LclInstrm/p:Cd", ns)}) > 1:
        problems.append("one scheme (CORE or B2B) per file")
    total_count, total_sum = 0, Decimal(0)
    for block in tree.iterfind(".//p:PmtInf", ns):
        seq = block.findtext(_q("PmtTpInf/SeqTp"), namespaces=ns)
        scheme = block.findtext(_q("PmtTpInf/LclInstrm/Cd"), namespaces=ns)
        if seq not in SEQUENCE_TYPES:
            problems.append(f"sequence type {seq}")
        if scheme not in SCHEMES:
            problems.append(f"scheme {scheme}")
        amounts = [Decimal(a.text) for a in block.iterfind(".//p:InstdAmt", ns)]
        if any(a.as_tuple().exponent < -2 or a <= 0 for a in amounts):
            problems.append("amounts must be positive with at most two decimals")
        if int(block.findtext("p:NbOfTxs", namespaces=ns)) != len(amounts):
            problems.append("NbOfTxs of a block")
        if Decimal(block.findtext("p:CtrlSum", namespaces=ns)) != sum(amounts, Decimal(0)):
            problems.append("CtrlSum of a block")
        total_count += len(amounts)
        total_sum += sum(amounts, Decimal(0))
    header = tree.find(_q("CstmrDrctDbtInitn/GrpHdr"), ns)
    if int(header.findtext("p:NbOfTxs", namespaces=ns)) != total_count:
        problems.append("NbOfTxs of the file")
    if Decimal(header.findtext("p:CtrlSum", namespaces=ns)) != total_sum:
        problems.append("CtrlSum of the file")
    ids = [n.text for n in tree.iterfind(".//p:EndToEndId", ns)]
    if len(ids) != len(set(ids)):
        problems.append("end-to-end ids repeat")
    if re.search(r"[^A-Z0-9]", "".join(creditor_ids)):
        problems.append("creditor id format")
    return problems


def end_to_end_id(number: str) -> str:
    return sepa_id(number)
