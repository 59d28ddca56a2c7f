"""Direct-debit payers, mandates and a reader for pain.008 files, for the SEPA tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import sepaxml
import xmlschema
from lxml import etree

from payments import mandates
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_invoice

NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}
XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.008.001.08.xsd"

# A Monday that is a TARGET2 business day; invoices are issued well before it.
TODAY = dt.date(2026, 11, 30)
COLLECT = dt.date(2026, 12, 7)
ISSUED = dt.date(2026, 11, 2)

IBANS = [
    "DE02120300000000202051",
    "DE02500105170137075030",
    "DE88100900001234567892",
    "DE12500105170648489890",
]


def dd_payer(org, *, name="Bäckerei Schulz GmbH", iban=IBANS[0], reference=None, scheme="CORE", user=None):
    payer = CustomerFactory(organization=org, name=name, payment_method="direct_debit")
    mandate = mandates.mandate_create(
        organization=org,
        customer=payer,
        reference=reference or f"M-{payer.number}",
        signed_on=dt.date(2026, 1, 15),
        iban=iban,
        debtor_name=name,
        scheme=scheme,
        user=user,
        today=TODAY,
    )
    return payer, mandate


def dd_invoice(org, payer, gross="119.00", **kwargs):
    kwargs.setdefault("issue_date", ISSUED)
    kwargs.setdefault("payment_method", "direct_debit")
    return issued_invoice(org, payer, gross, **kwargs)


def read_pain008(data: bytes) -> dict:
    """Validate with xmlschema (an independent reader), then read the figures with lxml."""
    xmlschema.XMLSchema(str(XSD)).validate(data.decode())
    root = etree.fromstring(data)
    header = root.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    blocks = []
    for block in root.iterfind(".//p:PmtInf", NS):
        txs = []
        for tx in block.iterfind("p:DrctDbtTxInf", NS):
            txs.append(
                {
                    "e2e": tx.findtext("p:PmtId/p:EndToEndId", namespaces=NS),
                    "amount": Decimal(tx.findtext("p:InstdAmt", namespaces=NS)),
                    "mandate": tx.findtext(".//p:MndtId", namespaces=NS),
                    "signed": tx.findtext(".//p:DtOfSgntr", namespaces=NS),
                    "iban": tx.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS),
                    "name": tx.findtext("p:Dbtr/p:Nm", namespaces=NS),
                    "text": tx.findtext("p:RmtInf/p:Ustrd", namespaces=NS),
                    "amended": tx.findtext(".//p:AmdmntInd", namespaces=NS),
                    "original_mandate": tx.findtext(".//p:OrgnlMndtId", namespaces=NS),
                    "original_iban": tx.findtext(".//p:OrgnlDbtrAcct/p:Id/p:IBAN", namespaces=NS),
                    "original_agent": tx.findtext(
                        ".//p:OrgnlDbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS
                    ),
                }
            )
        blocks.append(
            {
                "count": int(block.findtext("p:NbOfTxs", namespaces=NS)),
                "sum": Decimal(block.findtext("p:CtrlSum", namespaces=NS)),
                "scheme": block.findtext("p:PmtTpInf/p:LclInstrm/p:Cd", namespaces=NS),
                "sequence": block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS),
                "date": block.findtext("p:ReqdColltnDt", namespaces=NS),
                "creditor_id": block.findtext(".//p:CdtrSchmeId//p:Othr/p:Id", namespaces=NS),
                "creditor_iban": block.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS),
                "creditor_name": block.findtext("p:Cdtr/p:Nm", namespaces=NS),
                "txs": txs,
            }
        )
    return {
        "count": int(header.findtext("p:NbOfTxs", namespaces=NS)),
        "sum": Decimal(header.findtext("p:CtrlSum", namespaces=NS)),
        "message_id": header.findtext("p:MsgId", namespaces=NS),
        "blocks": blocks,
        "txs": [tx for b in blocks for tx in b["txs"]],
    }
