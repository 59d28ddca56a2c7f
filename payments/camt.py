"""Reading ISO 20022 bank-to-customer messages: camt.053 statements and camt.054
notifications (versions 001.02 to 001.08, the ones German banks deliver).

Parsed with lxml by local element names, whatever namespace and version the bank writes,
because the small parsers on PyPI drop what we need most: the return information
(``RtrInf/Rsn/Cd``) that tells a returned direct debit from any other debit. At runtime the
file is checked by what this parser needs (message type, amounts, indicators, dates); the
tests validate our sample files against the ISO XSDs as well.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections import Counter
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

SUPPORTED = re.compile(r"camt\.05[34]\.001\.0[2-8]$")
ROOTS = {"BkToCstmrStmt": ("camt.053", "Stmt"), "BkToCstmrDbtCdtNtfctn": ("camt.054", "Ntfctn")}
NOT_PROVIDED = {"", "NOTPROVIDED", "NOT PROVIDED"}
MAX_BYTES = 50 * 1024 * 1024


class CamtError(ValueError):
    """The file is not a camt message we can read; the message says why, for the user."""


@dataclasses.dataclass(frozen=True)
class CamtEntry:
    # Signed: credits positive, debits negative.
    amount: Decimal
    currency: str
    booking_date: dt.date
    value_date: dt.date | None
    bank_reference: str
    end_to_end_id: str
    remittance: str
    counterparty_name: str
    counterparty_iban: str
    return_reason: str
    reversal: bool
    account_iban: str
    key: str
    position: int

    @property
    def is_credit(self) -> bool:
        return self.amount > 0


@dataclasses.dataclass(frozen=True)
class CamtMessage:
    message_type: str
    message_id: str
    statement_id: str
    account_iban: str
    date_from: dt.date | None
    date_to: dt.date | None
    entries: list[CamtEntry]


def _child(el, *path):
    for name in path:
        if el is None:
            return None
        el = el.find(f"{{*}}{name}")
    return el


def _text(el, *path) -> str:
    found = _child(el, *path)
    return (found.text or "").strip() if found is not None else ""


def _date(el, *path) -> dt.date | None:
    found = _child(el, *path)
    if found is None:
        return None
    raw = _text(found, "Dt") or _text(found, "DtTm")[:10] or (found.text or "").strip()[:10]
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise CamtError(_("The date %(value)s is not a valid date.") % {"value": raw}) from None


def _amount(el) -> tuple[Decimal, str]:
    try:
        value = Decimal((el.text or "").strip())
    except InvalidOperation:
        raise CamtError(_("The amount %(value)s is not a number.") % {"value": el.text}) from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise CamtError(_("The amount %(value)s is not a valid amount.") % {"value": el.text})
    return value, el.get("Ccy", "")


def _party(tx, role: str) -> tuple[str, str]:
    parties = _child(tx, "RltdPties")
    if parties is None:
        return "", ""
    party = _child(parties, role)
    # Version 08 wraps the party in <Pty>; 02 names it directly.
    name = _text(party, "Pty", "Nm") or _text(party, "Nm")
    iban = _text(parties, f"{role}Acct", "Id", "IBAN")
    return name, iban.replace(" ", "").upper()


def _remittance(tx) -> str:
    info = _child(tx, "RmtInf")
    if info is None:
        return ""
    parts = [(u.text or "").strip() for u in info.findall("{*}Ustrd")]
    parts += [(r.text or "").strip() for r in info.iterfind("{*}Strd/{*}CdtrRefInf/{*}Ref")]
    return " ".join(p for p in parts if p)


def _message_type(root) -> tuple[str, str, object]:
    if etree.QName(root).localname != "Document" or len(root) == 0:
        raise CamtError(_("This is not an ISO 20022 bank statement (camt.053 or camt.054)."))
    body = root[0]
    name = etree.QName(body).localname
    if name not in ROOTS:
        raise CamtError(_("This is not an ISO 20022 bank statement (camt.053 or camt.054)."))
    namespace = etree.QName(body).namespace or ""
    version = namespace.rsplit(":", 1)[-1]
    family, container = ROOTS[name]
    if not version.startswith(family):
        version = f"{family}.001.02"
    if not SUPPORTED.match(version):
        raise CamtError(
            _("The format %(version)s is not supported (camt.053 or camt.054, versions 001.02 to 001.08).")
            % {"version": version}
        )
    return version, container, body


def parse(data: bytes) -> CamtMessage:
    if len(data) > MAX_BYTES:
        raise CamtError(_("The file is larger than 50 MB."))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CamtError(_("The file is not well-formed XML: %(error)s") % {"error": exc.msg}) from None
    version, container, body = _message_type(root)
    message_id = _text(body, "GrpHdr", "MsgId")
    reports = body.findall(f"{{*}}{container}")
    if not reports:
        raise CamtError(_("The file contains no statement."))
    entries: list[CamtEntry] = []
    seen: Counter = Counter()
    first = reports[0]
    dates: list[dt.date] = []
    for report in reports:
        account = _text(report, "Acct", "Id", "IBAN").replace(" ", "").upper() or _text(
            report, "Acct", "Id", "Othr", "Id"
        )
        for ntry in report.findall("{*}Ntry"):
            entries.extend(_entries(ntry, account=account, seen=seen, start=len(entries)))
        dates += [d for d in (_date(report, "FrToDt", "FrDtTm"), _date(report, "FrToDt", "ToDtTm")) if d]
    dates += [e.booking_date for e in entries]
    return CamtMessage(
        message_type=version,
        message_id=message_id,
        statement_id=_text(first, "Id")[:35],
        account_iban=_text(first, "Acct", "Id", "IBAN").replace(" ", "").upper(),
        date_from=min(dates) if dates else None,
        date_to=max(dates) if dates else None,
        entries=entries,
    )


def _entries(ntry, *, account: str, seen: Counter, start: int) -> list[CamtEntry]:
    status = _text(ntry, "Sts", "Cd") or _text(ntry, "Sts")
    # Only booked entries move money; pending and informational ones come again booked.
    if status and status != "BOOK":
        return []
    amount_el = _child(ntry, "Amt")
    if amount_el is None:
        raise CamtError(_("An entry has no amount."))
    total, currency = _amount(amount_el)
    indicator = _text(ntry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise CamtError(_("An entry is neither credit nor debit (CdtDbtInd)."))
    reversal = _text(ntry, "RvslInd").lower() == "true"
    booking = _date(ntry, "BookgDt")
    if booking is None:
        raise CamtError(_("An entry has no booking date."))
    value_date = _date(ntry, "ValDt")
    # The bank's own reference; NtryRef only counts within one statement.
    entry_ref = _text(ntry, "AcctSvcrRef")
    txs = ntry.findall("{*}NtryDtls/{*}TxDtls")
    result = []
    for index, tx in enumerate(txs or [None]):
        amount, tx_currency = total, currency
        if tx is not None and len(txs) > 1:
            tx_amount = _child(tx, "Amt")
            if tx_amount is None:
                tx_amount = _child(tx, "AmtDtls", "TxAmt", "Amt")
            if tx_amount is None:
                raise CamtError(_("A transaction of a batch booking has no amount."))
            amount, tx_currency = _amount(tx_amount)
        tx_indicator = (_text(tx, "CdtDbtInd") if tx is not None else "") or indicator
        credit = (tx_indicator == "CRDT") != reversal
        e2e = _text(tx, "Refs", "EndToEndId") if tx is not None else ""
        if e2e.upper() in NOT_PROVIDED:
            e2e = ""
        reason = _text(tx, "RtrInf", "Rsn", "Cd") if tx is not None else ""
        if credit:
            name, iban = _party(tx, "Dbtr") if tx is not None else ("", "")
        else:
            name, iban = _party(tx, "Dbtr" if reason else "Cdtr") if tx is not None else ("", "")
        remittance = _remittance(tx) if tx is not None else ""
        if not remittance:
            remittance = _text(ntry, "AddtlNtryInf")
        tx_ref = _text(tx, "Refs", "AcctSvcrRef") if tx is not None else ""
        signed = amount if credit else -amount
        if tx_ref:
            identity = tx_ref
        elif entry_ref:
            identity = entry_ref if len(txs) <= 1 else f"{entry_ref}/{index + 1}"
        else:
            # Without a bank reference, the entry's content is its identity; identical
            # entries of one file are told apart by their order.
            content = "|".join([booking.isoformat(), str(signed), e2e, remittance, iban, reason])
            seen[content] += 1
            identity = "h" + hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()[:40]
        result.append(
            CamtEntry(
                amount=signed,
                currency=tx_currency or currency or "EUR",
                booking_date=booking,
                value_date=value_date,
                bank_reference=(tx_ref or entry_ref)[:70],
                end_to_end_id=e2e[:70],
                remittance=remittance[:1000],
                counterparty_name=name[:140],
                counterparty_iban=iban[:34],
                return_reason=reason[:4],
                reversal=reversal,
                account_iban=account,
                key=f"camt:{account[:34]}:{identity[:70]}",
                position=start + len(result),
            )
        )
    return result
