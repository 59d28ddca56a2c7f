"""Bulk issuing of invoices, for the month-end billing run.

`document_draft_create` + `document_issue` cost about a dozen queries per invoice (draft
insert, lines, totals update, row lock, number sequence, audit); 20,000 invoices a month
cannot afford that. `invoices_issue_bulk` issues a batch with the SAME result - the
fields are built by the same helpers of documents.composition and documents.services, and
tests/billing/test_bulk.py compares a bulk-issued invoice with a singly issued one field
by field - in a handful of queries:

* Numbers: the organization's invoice `NumberSequence` row is locked (select_for_update)
  once for the batch, inside the caller's transaction, and a contiguous block is taken,
  ascending in batch order. The lock is held until the caller commits, and a rollback
  gives the whole block back, so the range stays gap-free (GoBD): one call of
  `organizations.numbering.numbers_next`. The caller does the slow work (computing what
  is due) BEFORE calling this, so the lock is held only for the inserts. Credit notes
  (a spec of kind credit_note) take theirs from the credit-note range, locked after the
  invoice range. The issue date is decided under each range's lock, never before the
  newest document of the range (numbers and dates ascend together).
* Documents are inserted already issued, complete with snapshot, lines and totals -
  with COPY on PostgreSQL (keys taken from the sequences first, so lines can point at
  their document without reading anything back), bulk_create elsewhere. Neither calls
  the models' save() guards, which exist to stop later edits; here the frozen state is
  written once, whole, in the caller's transaction.
* One audit entry per invoice, filed under its folder(s) as `document_issue` does.
* PDFs are rendered after commit in their own tasks (`schedule_pdf`), never under the
  number lock; `render_pdfs=False` leaves them to be rendered on first send/download
  (the benchmark and the demo seed do that).

Validation happens before: `invoice_problem` runs the checks `document_issue` and
`invoice_oneoff_now` make, so the billing run can record a failing payer and go on.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import CustomerKind, PaymentMethod
from documents import einvoice, texts
from documents.composition import (
    LineSpec,
    check_delivery_address,
    check_payer_tax,
    contact_for,
    default_intro,
    folder_label_of,
    greeting_for,
    issuer_snapshot,
    payment_method_for,
    payment_text_for,
    recipient_snapshot,
    tax_note_for,
)
from documents.extensions import mandate_use, mandates_on_file
from documents.models import Document, DocumentKind, DocumentLine, DocumentStatus
from documents.services import (
    NUMBER_KINDS,
    apply_totals,
    check_oneoff_lines_match_quote,
    check_payment_setup,
    issue_date_in_order,
    issued_message,
    line_values,
    require_address,
    schedule_pdf,
)
from organizations.bulk import insert_rows
from organizations.models import AuditEntry
from organizations.numbering import numbers_next


@dataclass(kw_only=True)
class InvoiceSpec:
    """One invoice to issue. `folder` is None for a consolidated invoice; `folders` then
    lists the folders it covers (its audit entries are filed under each)."""

    customer: object  # customers.Customer, the end customer
    payer: object  # customers.Customer, the addressee (contacts prefetched)
    folder: object | None
    lines: Sequence[LineSpec]
    service_start: dt.date | None = None
    service_end: dt.date | None = None
    leased_object: dict | None = None
    folders: Sequence[object] = field(default_factory=tuple)
    # A credit note ("Rechnungskorrektur", numbered in the credit-note range) instead of
    # an invoice, when what is billed sums to less than zero: never a negative invoice.
    # `corrects` are the issued invoices whose periods it corrects (the newest becomes
    # its `cancels` reference, all are named in its introduction).
    kind: str = DocumentKind.INVOICE
    corrects: Sequence[Document] = ()


def invoice_problem(
    *,
    organization,
    customer,
    payer,
    folder,
    oneoff_lines: Sequence[object] = (),
    lines: Sequence[LineSpec] = (),
) -> ValidationError | None:
    """Why an invoice to `payer` cannot be issued (the checks of `document_issue` and
    `invoice_oneoff_now`), or None. Runs without writing anything. `oneoff_lines` (the
    folder's one-off lines on this invoice) are checked against its accepted quote;
    `lines` (the invoice's lines) for a 0 % rate without a printed reason."""
    financed = payer.pk != customer.pk
    try:
        if customer.kind == CustomerKind.PROSPECT and not financed:
            raise ValidationError(
                _(
                    "%(name)s is still a prospect. Accept the quote (or convert the prospect) before invoicing."
                )
                % {"name": customer.name},
                code="prospect",
            )
        require_address(payer, financier=financed)
        check_payer_tax(organization=organization, payer=payer, lines=lines)
        check_delivery_address(payer)
        check_payment_setup(
            organization=organization, payer=payer, method=payment_method_for(payer, folder), folder=folder
        )
        if folder is not None and oneoff_lines:
            check_oneoff_lines_match_quote(folder=folder, lines=oneoff_lines)
    except ValidationError as exc:
        return exc
    return None


def issuer_problem(organization) -> ValidationError | None:
    """§ 14 (4) Nr. 2 UStG: no invoice without the issuer's VAT ID or tax number."""
    if organization.vat_id or organization.tax_number:
        return None
    return ValidationError(
        _("Invoices need your organization's VAT ID or tax number (organization settings)."),
        code="no_issuer_tax_id",
    )


@dataclass(slots=True)
class _Priced:
    """What documents.services.apply_totals and documents.composition.tax_note_for read of a line."""

    quantity: Decimal
    unit_price: Decimal | None
    discount_percent: Decimal
    tax_rate: Decimal | None
    cycle: int | None
    position: int
    goods: bool


def _line_values(document: Document, specs: Sequence[LineSpec]) -> tuple[list[dict], list[_Priced]]:
    """The lines' column values (documents.services.line_values) and what totals read of them."""
    rows = line_values(document, specs)
    priced = [
        _Priced(
            row["quantity"],
            row["unit_price"],
            row["discount_percent"],
            row["tax_rate"],
            row["cycle"],
            row["position"],
            row["goods"],
        )
        for row in rows
    ]
    return rows, priced


_DOCUMENT_ATTNAMES = [f.attname for f in Document._meta.concrete_fields]


def _invoice_label() -> str:
    return str(DocumentKind.INVOICE.label)


@functools.cache
def _document_defaults() -> tuple[tuple[str, object], ...]:
    return tuple((f.attname, f.get_default()) for f in Document._meta.concrete_fields)


def _document_row(document: Document) -> dict:
    """The stored values of an unsaved document, raw (a file field as its name)."""
    raw = document.__dict__
    return {name: raw[name] for name in _DOCUMENT_ATTNAMES if name != "id"}


def _document(
    spec: InvoiceSpec,
    *,
    organization,
    number: str,
    issue_date: dt.date,
    issuer: dict,
    user,
    billing_run_id,
    now,
    recipients: dict,
    mandates: dict,
) -> tuple[Document, list[dict]]:
    """An issued invoice as document_draft_create + document_issue would leave it."""
    payer, folder = spec.payer, spec.folder
    # One payer, one snapshot per batch (a financier gets many invoices in a run).
    recipient = recipients.get(payer.pk)
    if recipient is None:
        recipient = recipients[payer.pk] = recipient_snapshot(payer, invoice=True)
    credit = spec.kind == DocumentKind.CREDIT_NOTE
    corrected = max(spec.corrects, key=lambda d: (d.issue_date, d.pk)) if credit and spec.corrects else None
    if corrected is not None:
        # A credit note reverses the invoice's tax exactly as it was charged.
        recipient = {**recipient, "tax_treatment": corrected.tax_treatment, "language": corrected.language}
    lang = recipient["language"]
    values = dict(_document_defaults())
    values.update(
        organization_id=organization.pk,
        kind=spec.kind,
        cancels_id=corrected.pk if corrected is not None else None,
        status=DocumentStatus.ISSUED,
        number=number,
        issue_date=issue_date,
        issued_at=now,
        created_at=now,
        updated_at=now,
        folder_id=folder.pk if folder is not None else None,
        folder_label=folder_label_of(folder) if folder is not None else "",
        customer_id=spec.customer.pk,
        payer_id=payer.pk,
        third_party=payer.pk != spec.customer.pk,
        service_start=spec.service_start,
        service_end=spec.service_end,
        leased_object=spec.leased_object or {},
        billing_run_id=billing_run_id,
        created_by_id=user.pk if getattr(user, "is_authenticated", False) else None,
        issuer=issuer,
        **recipient,
    )
    # Positional construction (as Model.from_db does): a tenth of the cost of keywords,
    # which counts with 20,000 invoices.
    document = Document(*(values[name] for name in _DOCUMENT_ATTNAMES))
    greeting = greeting_for(contact_for(payer, invoice=True), lang)
    if credit:
        # As documents.services issues a partial credit note: nothing to collect, so no
        # payment method, terms or due date; the introduction names what it corrects.
        document.cancels = corrected
        document.intro_text = _credit_intro(greeting, lang, spec.corrects)
    else:
        # Django's get_FOO_display() hashes the field's choices on every call; the audit
        # messages ask for it per invoice.
        document.get_kind_display = _invoice_label
        document.payment_method = payment_method_for(payer, folder)
        if document.payment_method == PaymentMethod.DIRECT_DEBIT:
            mandate_use(document, mandates.get((payer.pk, folder.pk if folder is not None else None)))
        document.payment_terms_days = payer.effective_payment_terms()
        document.intro_text = default_intro(document, greeting)
        document.due_date = issue_date + dt.timedelta(days=document.payment_terms_days or 0)
    document.closing_text = texts.text(lang, "closing", issuer=organization.display_legal_name)
    lines, priced = _line_values(document, spec.lines)
    apply_totals(document, priced)
    document.tax_note = tax_note_for(document, priced)
    document.payment_text = payment_text_for(document, payer)
    einvoice.check_einvoice(document, lines, payer=payer, folder=folder, organization=organization)
    return document, lines


def _credit_intro(greeting: str, lang: str, corrects: Sequence[Document]) -> str:
    ordered = sorted(corrects, key=lambda d: (d.issue_date, d.pk))
    if len(ordered) == 1:
        body = texts.text(
            lang, "intro_credit_note", number=ordered[0].number, date=texts.date(lang, ordered[0].issue_date)
        )
    elif ordered:
        body = texts.text(lang, "intro_credit_note_many", numbers=", ".join(d.number for d in ordered))
    else:
        body = texts.text(lang, "intro_credit_note_periods")
    return "\n".join(part for part in (greeting, body) if part)


def _audit_rows(document: Document, spec: InvoiceSpec, *, user_id, message: dict, record: str) -> list[dict]:
    """What documents.services.drafts.document_audit writes for "<kind>.issued", one row per folder."""
    targets = [spec.folder] if spec.folder is not None else list(spec.folders)
    data = {
        "document_id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "message": message,
        "payer": document.recipient_name,
        "gross": str(document.total_gross),
        "record": record,
    }
    return [
        {
            "organization_id": document.organization_id,
            "user_id": user_id,
            "action": f"{document.kind}.issued",
            "object_type": target._meta.label_lower,
            "object_id": target.pk,
            "object_label": str(target)[:200],
            "data": data,
        }
        for target in targets
    ]


def invoices_issue_bulk(
    *,
    organization,
    specs: Sequence[InvoiceSpec],
    user,
    issue_date: dt.date,
    billing_run_id: int | None = None,
    render_pdfs: bool = True,
) -> list[tuple[Document, list[int]]]:
    """Issue every spec as an invoice (or a credit note, by its `kind`), numbered in
    order in its number range, in the caller's transaction.

    `issue_date` is the date wanted; each range's documents get it unless one of that
    range is already dated later (documents.services.issue_date_in_order).
    Call `invoice_problem` for each spec first; this does not validate payers again.
    Returns (document, ids of its lines in order) per spec.
    """
    if not specs:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("invoices_issue_bulk must run inside the transaction that stores the invoices")
    problem = issuer_problem(organization)
    if problem is not None:
        raise problem
    issuer = issuer_snapshot(organization)
    now = timezone.now()
    # Per range (invoices first, always in this order, so two chunks never wait for each
    # other's lock): the date is decided under the range's lock, so a run resumed after
    # a manual invoice dated later does not put older dates behind it.
    dated: dict[str, tuple[dt.date, list[str]]] = {}
    for kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        count = sum(1 for spec in specs if spec.kind == kind)
        if count:
            day = issue_date_in_order(organization=organization, kind=kind, wanted=issue_date)
            numbers = numbers_next(organization=organization, kind=NUMBER_KINDS[kind], count=count, on=day)
            dated[kind] = (day, list(reversed(numbers)))
    recipients: dict[int, dict] = {}
    # The mandates the direct-debit invoices name, in one query for the batch.
    mandates = mandates_on_file(
        (spec.payer, spec.folder)
        for spec in specs
        if spec.kind == DocumentKind.INVOICE
        and payment_method_for(spec.payer, spec.folder) == PaymentMethod.DIRECT_DEBIT
    )
    built = []
    for spec in specs:
        day, numbers = dated[spec.kind]
        built.append(
            _document(
                spec,
                organization=organization,
                number=numbers.pop(),
                issue_date=day,
                issuer=issuer,
                user=user,
                billing_run_id=billing_run_id,
                now=now,
                recipients=recipients,
                mandates=mandates,
            )
        )
    ids = insert_rows(Document, [_document_row(document) for document, _lines in built])
    rows = []
    for pk, (document, lines) in zip(ids, built, strict=True):
        document.pk = document.id = pk
        document._state.adding = False
        for line in lines:
            line["document_id"] = pk
            rows.append(line)
    line_ids = iter(insert_rows(DocumentLine, rows))
    result = [(document, [next(line_ids) for _line in lines]) for document, lines in built]
    user_id = user.pk if getattr(user, "is_authenticated", False) else None
    audits = []
    kind_label = _invoice_label()
    for (document, _lines), spec in zip(built, specs, strict=True):
        label = (
            f"{kind_label if spec.kind == DocumentKind.INVOICE else document.title_label} {document.number}"
        )
        message = issued_message(document)
        audits += _audit_rows(
            document, spec, user_id=user_id, message=message, record=f"{Document._meta.verbose_name}: {label}"
        )
    insert_rows(AuditEntry, audits, ids=False)
    if render_pdfs:
        pks = [document.pk for document, _lines in built]
        transaction.on_commit(lambda: [schedule_pdf(pk, organization.pk) for pk in pks])
    return result
