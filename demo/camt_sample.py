"""Sample CAMT files as a German bank writes them: camt.053 account statements and camt.054
notifications, versions 001.02 and 001.08, valid against the ISO XSDs.

Used by the demo seed (a statement to import), the benchmark and the tests.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from lxml import etree

BANK_CODES = {
    # (domain, family, sub-family) of the bank transaction code
    "credit": ("PMNT", "RCDT", "ESCT"),
    "debit": ("PMNT", "ICDT", "ESCT"),
    "dd_settlement": ("PMNT", "RDDT", "ESDD"),
    "dd_return": ("PMNT", "RDDT", "UPDD"),
}


@dataclasses.dataclass(frozen=True)
class SampleEntry:
    amount: Decimal
    credit: bool = True
    booking_date: dt.date = dt.date(2026, 12, 1)
    remittance: str = ""
    end_to_end_id: str = ""
    name: str = ""
    iban: str = ""
    bank_reference: str = ""
    return_reason: str = ""
    # A batch booking (a settled direct-debit file): one entry, one transaction each.
    batch: tuple[SampleEntry, ...] = ()


def _sub(parent, name: str, text: str | None = None, **attrs):
    el = etree.SubElement(parent, f"{{{parent.nsmap[None]}}}{name}", **attrs)
    if text is not None:
        el.text = text
    return el


def _path(parent, path: str, text: str | None = None):
    el = parent
    names = path.split("/")
    for name in names[:-1]:
        el = _sub(el, name)
    return _sub(el, names[-1], text)


def _amount(value: Decimal) -> str:
    return f"{abs(value):.2f}"


def _bank_code(parent, kind: str) -> None:
    domain, family, sub = BANK_CODES[kind]
    code = _sub(parent, "BkTxCd")
    dom = _sub(code, "Domn")
    _sub(dom, "Cd", domain)
    fam = _sub(dom, "Fmly")
    _sub(fam, "Cd", family)
    _sub(fam, "SubFmlyCd", sub)


def _party(parent, role: str, name: str, iban: str, *, v08: bool) -> None:
    if name:
        party = _sub(parent, role)
        _sub(_sub(party, "Pty") if v08 else party, "Nm", name[:140])
    if iban:
        _path(_sub(parent, f"{role}Acct"), "Id/IBAN", iban)


def _tx(ntry_details, entry: SampleEntry, *, v08: bool, batch: bool, kind: str) -> None:
    tx = _sub(ntry_details, "TxDtls")
    if entry.bank_reference or entry.end_to_end_id:
        refs = _sub(tx, "Refs")
        if entry.bank_reference and batch:
            _sub(refs, "AcctSvcrRef", entry.bank_reference)
        _sub(refs, "EndToEndId", entry.end_to_end_id or "NOTPROVIDED")
    if batch:
        if v08:
            _sub(tx, "Amt", _amount(entry.amount), Ccy="EUR")
            _sub(tx, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
        else:
            _path(_sub(tx, "AmtDtls"), "TxAmt/Amt", _amount(entry.amount)).set("Ccy", "EUR")
    if v08:
        _bank_code(tx, kind)
    if entry.name or entry.iban:
        parties = _sub(tx, "RltdPties")
        _party(parties, "Dbtr", entry.name, entry.iban, v08=v08)
    if entry.remittance:
        _sub(_sub(tx, "RmtInf"), "Ustrd", entry.remittance[:140])
    if entry.return_reason:
        rtr = _sub(tx, "RtrInf")
        _path(rtr, "Rsn/Cd", entry.return_reason)


def _kind(entry: SampleEntry) -> str:
    if entry.return_reason:
        return "dd_return"
    if entry.batch:
        return "dd_settlement"
    return "credit" if entry.credit else "debit"


def camt_xml(
    entries: list[SampleEntry],
    *,
    account_iban: str,
    version: str = "camt.053.001.02",
    statement_id: str = "STMT-2026-12-01",
    created: dt.datetime = dt.datetime(2026, 12, 2, 6, 0, 0, tzinfo=dt.UTC),
    opening_balance: Decimal = Decimal("0.00"),
) -> bytes:
    family = version[:8]
    v08 = not version.endswith(".02")
    nsmap = {None: f"urn:iso:std:iso:20022:tech:xsd:{version}"}
    root = etree.Element(f"{{{nsmap[None]}}}Document", nsmap=nsmap)
    body = _sub(root, "BkToCstmrStmt" if family == "camt.053" else "BkToCstmrDbtCdtNtfctn")
    header = _sub(body, "GrpHdr")
    _sub(header, "MsgId", f"MSG-{statement_id}"[:35])
    _sub(header, "CreDtTm", created.isoformat(timespec="seconds"))
    report = _sub(body, "Stmt" if family == "camt.053" else "Ntfctn")
    _sub(report, "Id", statement_id)
    _sub(report, "ElctrncSeqNb", "1")
    _sub(report, "CreDtTm", created.isoformat(timespec="seconds"))
    dates = [e.booking_date for e in entries] or [created.date()]
    span = _sub(report, "FrToDt")
    _sub(
        span,
        "FrDtTm",
        dt.datetime.combine(min(dates), dt.time(0, 0, tzinfo=dt.UTC)).isoformat(timespec="seconds"),
    )
    _sub(
        span,
        "ToDtTm",
        dt.datetime.combine(max(dates), dt.time(23, 59, 59, tzinfo=dt.UTC)).isoformat(timespec="seconds"),
    )
    account = _sub(report, "Acct")
    _path(account, "Id/IBAN", account_iban)
    _sub(account, "Ccy", "EUR")
    if family == "camt.053":
        closing = opening_balance + sum((e.amount if e.credit else -e.amount for e in entries), Decimal(0))
        for code, value, day in (("OPBD", opening_balance, min(dates)), ("CLBD", closing, max(dates))):
            bal = _sub(report, "Bal")
            _path(bal, "Tp/CdOrPrtry/Cd", code)
            _sub(bal, "Amt", _amount(value), Ccy="EUR")
            _sub(bal, "CdtDbtInd", "CRDT" if value >= 0 else "DBIT")
            _path(bal, "Dt/Dt", day.isoformat())
    for index, entry in enumerate(entries, start=1):
        kind = _kind(entry)
        ntry = _sub(report, "Ntry")
        _sub(ntry, "NtryRef", str(index))
        _sub(ntry, "Amt", _amount(entry.amount), Ccy="EUR")
        _sub(ntry, "CdtDbtInd", "CRDT" if entry.credit else "DBIT")
        if v08:
            _path(ntry, "Sts/Cd", "BOOK")
        else:
            _sub(ntry, "Sts", "BOOK")
        _path(ntry, "BookgDt/Dt", entry.booking_date.isoformat())
        _path(ntry, "ValDt/Dt", entry.booking_date.isoformat())
        if entry.bank_reference:
            _sub(ntry, "AcctSvcrRef", entry.bank_reference)
        _bank_code(ntry, kind)
        details = _sub(ntry, "NtryDtls")
        if entry.batch:
            _sub(_sub(details, "Btch"), "NbOfTxs", str(len(entry.batch)))
            for tx in entry.batch:
                _tx(details, tx, v08=v08, batch=True, kind=_kind(tx) if tx.return_reason else kind)
        else:
            _tx(details, entry, v08=v08, batch=False, kind=kind)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
