"""Direct-debit batches: what can be collected, the batch with its file, and what
happens to it afterwards (submitted to the bank, settled, returned, cancelled).

Rules of this module:

- An invoice is collected by the payment method it was issued with (``payment_method``
  on the invoice: the folder's method when it differs, else the customer's, decided at
  issue), with the folder's own mandate when there is one, else the customer's.
- One invoice is in at most one pending collection: the payer rows and then the
  invoices are locked before the batch is written, and the partial unique constraint
  ``one_pending_collection`` is the last guard when two clerks create batches at once.
- The file is validated (ISO schema and the German banks' rules) before it is stored;
  a batch whose file does not pass is not created.
- The mandate's state moves when the batch is *submitted*, not when it is created: a
  created batch can still be cancelled, so its sequence type (FRST for a mandate never
  collected) and its amendment details are read from the mandate then, and only the
  submission sets ``last_collected_on`` and clears the amendment's original values.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumError

from customers.models import Customer
from documents.models import Document, DocumentKind, DocumentStatus
from organizations.audit import audit_log
from organizations.money import ZERO

from . import sepa_dates, sepa_xml
from .mandates import mandate_for_invoice, mandate_refusal, mandates_for, payment_settings_for
from .models import (
    Allocation,
    BatchKind,
    BatchStatus,
    DirectDebitBatch,
    DirectDebitItem,
    ItemStatus,
    Payment,
    PaymentChannel,
    SepaMandate,
)
from .selectors import open_amounts, pending_collection_ids
from .sepa_text import sepa_id

DIRECT_DEBIT = "direct_debit"
GOCARDLESS = "gocardless"

# The return reasons a German bank reports most (ISO 20022 ExternalReturnReason1Code).
RETURN_REASONS = [
    ("AC01", gettext_lazy("AC01 account identifier incorrect")),
    ("AC04", gettext_lazy("AC04 account closed")),
    ("AC06", gettext_lazy("AC06 account blocked")),
    ("AC13", gettext_lazy("AC13 debtor account is a consumer account")),
    ("AG01", gettext_lazy("AG01 direct debit forbidden on this account")),
    ("AG02", gettext_lazy("AG02 invalid bank operation code")),
    ("AM04", gettext_lazy("AM04 insufficient funds")),
    ("AM05", gettext_lazy("AM05 duplicate collection")),
    ("BE05", gettext_lazy("BE05 creditor unknown to the debtor")),
    ("CNOR", gettext_lazy("CNOR creditor bank not registered")),
    ("DNOR", gettext_lazy("DNOR debtor bank not registered")),
    ("FF01", gettext_lazy("FF01 invalid file format")),
    ("MD01", gettext_lazy("MD01 no mandate")),
    ("MD02", gettext_lazy("MD02 mandate data missing or wrong")),
    ("MD06", gettext_lazy("MD06 refund requested by the debtor")),
    ("MD07", gettext_lazy("MD07 debtor deceased")),
    ("MS02", gettext_lazy("MS02 refused by the debtor")),
    ("MS03", gettext_lazy("MS03 reason not specified")),
    ("RC01", gettext_lazy("RC01 BIC incorrect")),
    ("RR01", gettext_lazy("RR01 regulatory reason")),
    ("SL01", gettext_lazy("SL01 specific service of the debtor bank")),
]
RETURN_REASON_CODES = {code for code, _label in RETURN_REASONS}


@dataclasses.dataclass
class Candidate:
    """An open invoice of a payer who pays by direct debit, and whether it can go in."""

    invoice: Document
    amount: Decimal
    mandate: SepaMandate | None = None
    sequence_type: str = ""
    earliest: dt.date | None = None
    refusal: str | None = None

    @property
    def payer(self) -> Customer:
        return self.invoice.payer

    @property
    def collectable(self) -> bool:
        return self.refusal is None


# --- organization and dates --------------------------------------------------------------


def organization_refusal(organization, *, kind: str = BatchKind.SEPA) -> str | None:
    """Why the organization cannot send direct debits yet (None when it can)."""
    if kind == BatchKind.GOCARDLESS:
        return None
    missing = [
        label
        for label, value in (
            (_("IBAN"), organization.iban),
            (_("BIC"), organization.bic),
            (_("creditor identifier"), organization.creditor_id),
        )
        if not value
    ]
    if missing:
        return _(
            "Direct debits need your organization's %(fields)s: fill them in under organization settings."
        ) % {"fields": ", ".join(missing)}
    try:
        at_02.validate(organization.creditor_id)
    except StdnumError:
        return _(
            "Your organization's creditor identifier %(id)s is not valid: correct it under organization settings."
        ) % {"id": organization.creditor_id}
    return None


def collection_date_refusal(organization, collection_date: dt.date, *, today: dt.date) -> str | None:
    if not sepa_dates.is_business_day(collection_date):
        return _(
            "%(date)s is not a TARGET2 business day: direct debits are collected Monday to Friday, not on TARGET2 holidays."
        ) % {"date": collection_date.strftime("%d.%m.%Y")}
    settings = payment_settings_for(organization)
    earliest = sepa_dates.earliest_collection_date(today=today, lead_time_days=settings.lead_time_days)
    if collection_date < earliest:
        return _(
            "The collection date is too early: the earliest possible date is %(date)s (lead time %(days)s business days)."
        ) % {
            "date": earliest.strftime("%d.%m.%Y"),
            "days": settings.lead_time_days,
        }
    return None


def default_collection_date(organization, *, today: dt.date) -> dt.date:
    settings = payment_settings_for(organization)
    return sepa_dates.earliest_collection_date(today=today, lead_time_days=settings.lead_time_days)


# --- candidates ----------------------------------------------------------------------------


def credits_by_payer(payer_ids) -> dict[int, Decimal]:
    """Unallocated money per payer (what ``customer_credit`` says, for many at once)."""
    ids = list(payer_ids)
    paid = dict(
        Payment.objects.filter(payer_id__in=ids)
        .values("payer_id")
        .annotate(s=Sum("amount"))
        .values_list("payer_id", "s")
    )
    allocated = dict(
        Allocation.objects.filter(payment__payer_id__in=ids)
        .values("payment__payer_id")
        .annotate(s=Sum("amount"))
        .values_list("payment__payer_id", "s")
    )
    return {pk: (paid.get(pk) or ZERO) - (allocated.get(pk) or ZERO) for pk in ids}


def _used_mandate_ids(mandate_ids) -> set[int]:
    return set(
        DirectDebitItem.objects.filter(mandate_id__in=list(mandate_ids))
        .exclude(status=ItemStatus.CANCELLED)
        .values_list("mandate_id", flat=True)
    )


def _invoices(method: str, invoice_ids=None):
    qs = (
        Document.objects.filter(kind=DocumentKind.INVOICE, payment_method=method)
        .exclude(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED])
        .select_related("payer")
        .order_by("payer__name", "issue_date", "pk")
    )
    if invoice_ids is not None:
        qs = qs.filter(pk__in=list(invoice_ids))
    return qs


def _remittance(invoice: Document) -> str:
    date = invoice.issue_date.strftime("%d.%m.%Y") if invoice.issue_date else ""
    if invoice.language == "en":
        return f"Invoice {invoice.number} of {date}"
    return f"Rechnung {invoice.number} vom {date}"


def candidates(
    *, organization, collection_date: dt.date, invoice_ids=None, include_paid: bool = False
) -> list[Candidate]:
    """Open invoices to be collected by SEPA direct debit on ``collection_date``: each with
    its mandate, amount and sequence type, or the reason it cannot be collected."""
    invoices = list(_invoices(DIRECT_DEBIT, invoice_ids))
    opens = open_amounts(invoices)
    pending = pending_collection_ids([i.pk for i in invoices])
    payer_ids = {i.payer_id for i in invoices}
    credits = credits_by_payer(payer_ids)
    mandates = mandates_for(payer_ids, day=collection_date)
    used = _used_mandate_ids(m.pk for m in mandates.values())
    settings = payment_settings_for(organization)
    first_in_batch: set[int] = set()
    result = []
    for invoice in invoices:
        amount = opens[invoice.pk]
        if invoice.pk in pending:
            if invoice_ids is None:
                continue
            result.append(Candidate(invoice, amount, refusal=_("already in a pending collection")))
            continue
        if amount <= ZERO and not include_paid and invoice_ids is None:
            continue
        mandate = mandate_for_invoice(mandates, payer_id=invoice.payer_id, folder_id=invoice.folder_id)
        candidate = Candidate(invoice, amount, mandate=mandate)
        days = (
            mandate.prenotification_days
            if mandate is not None and mandate.prenotification_days is not None
            else settings.prenotification_days
        )
        candidate.earliest = sepa_dates.prenotified_from(
            issue_date=invoice.issue_date, due_date=invoice.due_date, prenotification_days=days
        )
        if amount <= ZERO:
            candidate.refusal = _("nothing to collect (open amount %(amount)s)") % {"amount": amount}
        elif credits.get(invoice.payer_id, ZERO) > ZERO:
            candidate.refusal = _("the payer has a credit of %(credit)s: apply it first") % {
                "credit": credits[invoice.payer_id]
            }
        else:
            candidate.refusal = mandate_refusal(mandate, collection_date)
        if candidate.refusal is None and collection_date < candidate.earliest:
            candidate.refusal = _("pre-notified for %(date)s at the earliest") % {
                "date": candidate.earliest.strftime("%d.%m.%Y")
            }
        if mandate is not None:
            never_used = mandate.last_collected_on is None and mandate.pk not in used
            if never_used and mandate.pk not in first_in_batch and candidate.refusal is None:
                candidate.sequence_type = "FRST"
                first_in_batch.add(mandate.pk)
            else:
                candidate.sequence_type = "RCUR"
        result.append(candidate)
    return result


def gocardless_candidates(*, organization, charge_date: dt.date, invoice_ids=None) -> list[Candidate]:
    """Open invoices of payers who pay through GoCardless."""
    invoices = list(_invoices(GOCARDLESS, invoice_ids))
    opens = open_amounts(invoices)
    pending = pending_collection_ids([i.pk for i in invoices])
    credits = credits_by_payer({i.payer_id for i in invoices})
    result = []
    for invoice in invoices:
        amount = opens[invoice.pk]
        if invoice.pk in pending:
            if invoice_ids is None:
                continue
            result.append(Candidate(invoice, amount, refusal=_("already in a pending collection")))
            continue
        if amount <= ZERO and invoice_ids is None:
            continue
        candidate = Candidate(invoice, amount, earliest=invoice.due_date)
        if amount <= ZERO:
            candidate.refusal = _("nothing to collect (open amount %(amount)s)") % {"amount": amount}
        elif credits.get(invoice.payer_id, ZERO) > ZERO:
            candidate.refusal = _("the payer has a credit of %(credit)s: apply it first") % {
                "credit": credits[invoice.payer_id]
            }
        elif not invoice.payer.gocardless_mandate_id:
            candidate.refusal = _("no GoCardless mandate id on the customer")
        result.append(candidate)
    return result


# --- creating a batch --------------------------------------------------------------------------


def _lock(invoice_ids) -> None:
    """Payers first (as every ledger write does), then the invoices, both in id order."""
    ids = sorted(set(invoice_ids))
    payer_ids = sorted(set(Document.objects.filter(pk__in=ids).values_list("payer_id", flat=True)))
    list(
        Customer.objects.select_for_update()
        .filter(pk__in=payer_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(Document.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def _refuse(chosen: list[Candidate]) -> None:
    refused = [c for c in chosen if c.refusal]
    if refused:
        lines = [f"{c.invoice.number} ({c.payer.name}): {c.refusal}" for c in refused[:20]]
        if len(refused) > 20:
            lines.append(_("and %(count)s more") % {"count": len(refused) - 20})
        raise ValidationError(_("No batch was created. %(problems)s") % {"problems": "; ".join(lines)})


def _creditor(organization) -> sepa_xml.Creditor:
    return sepa_xml.Creditor(
        name=organization.display_legal_name,
        iban=organization.iban.replace(" ", "").upper(),
        bic=organization.bic.replace(" ", "").upper(),
        creditor_id=organization.creditor_id.replace(" ", "").upper(),
    )


@transaction.atomic
def batch_create(
    *,
    organization,
    collection_date: dt.date,
    invoice_ids,
    user,
    today: dt.date,
    kind: str = BatchKind.SEPA,
) -> DirectDebitBatch:
    """A batch of the chosen invoices with its file, validated before it is stored."""
    invoice_ids = list(invoice_ids)
    if not invoice_ids:
        raise ValidationError(_("Choose at least one invoice."))
    refusal = organization_refusal(organization, kind=kind) or collection_date_refusal(
        organization, collection_date, today=today
    )
    if refusal:
        raise ValidationError(refusal, code="refused")
    _lock(invoice_ids)
    if kind == BatchKind.GOCARDLESS:
        chosen = gocardless_candidates(
            organization=organization, charge_date=collection_date, invoice_ids=invoice_ids
        )
    else:
        chosen = candidates(
            organization=organization, collection_date=collection_date, invoice_ids=invoice_ids
        )
    if len(chosen) != len(set(invoice_ids)):
        raise ValidationError(
            _(
                "Some of the chosen invoices cannot be collected this way (another payment method, or not issued)."
            )
        )
    _refuse(chosen)
    schemes = {c.mandate.scheme for c in chosen} if kind == BatchKind.SEPA else set()
    if len(schemes) > 1:
        raise ValidationError(
            _(
                "A batch holds one scheme only: SEPA Core and SEPA B2B collections go to the bank in files of their own."
            ),
            code="schemes",
        )
    batch = DirectDebitBatch.objects.create(
        organization=organization,
        kind=kind,
        scheme=schemes.pop() if schemes else "",
        collection_date=collection_date,
        total=sum((c.amount for c in chosen), ZERO),
        count=len(chosen),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    items = [
        DirectDebitItem(
            organization=organization,
            batch=batch,
            document=c.invoice,
            payer_id=c.invoice.payer_id,
            mandate=c.mandate,
            amount=c.amount,
            end_to_end_id=sepa_id(c.invoice.number),
            sequence_type=c.sequence_type,
        )
        for c in chosen
    ]
    try:
        with transaction.atomic():
            DirectDebitItem.objects.bulk_create(items, batch_size=2000)
    except IntegrityError:
        raise ValidationError(
            _(
                "No batch was created: one of the invoices was put into another collection at the same time. Reload the page."
            )
        ) from None
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    if kind == BatchKind.GOCARDLESS:
        data = gocardless_payments_csv(chosen, charge_date=collection_date)
        batch.message_id = f"GC{organization.pk}-{batch.pk}-{stamp}"[:35]
        name = f"gocardless-{collection_date:%Y-%m-%d}-{batch.pk}.csv"
    else:
        batch.message_id = f"DD{organization.pk}-{batch.pk}-{stamp}"[:35]
        try:
            data = sepa_xml.build(
                creditor=_creditor(organization),
                collection_date=collection_date,
                message_id=batch.message_id,
                collections=[_collection(c) for c in chosen],
            )
        except sepa_xml.SepaFileError as exc:
            raise ValidationError(
                _("No batch was created: the SEPA file does not pass the checks (%(problems)s).")
                % {"problems": "; ".join(exc.problems[:5])}
            ) from None
        name = f"lastschrift-{collection_date:%Y-%m-%d}-{batch.pk}.xml"
    batch.file.save(f"{organization.pk}/{name}", ContentFile(data), save=False)
    batch.save(update_fields=["message_id", "file"])
    audit_log(
        organization=organization,
        user=user,
        action="payment.batch_created",
        obj=batch,
        data={
            "kind": kind,
            "date": collection_date.isoformat(),
            "count": batch.count,
            "total": str(batch.total),
        },
    )
    return batch


@transaction.atomic
def batches_create(
    *,
    organization,
    collection_date: dt.date,
    invoice_ids,
    user,
    today: dt.date,
    kind: str = BatchKind.SEPA,
) -> list[DirectDebitBatch]:
    """The chosen invoices as one batch per SEPA scheme (CORE first, then B2B), each with
    its own file, all or none; a GoCardless export is one batch."""
    invoice_ids = list(invoice_ids)
    groups = [invoice_ids]
    if kind == BatchKind.SEPA and invoice_ids:
        by_scheme: dict[str, list[int]] = {}
        for c in candidates(
            organization=organization, collection_date=collection_date, invoice_ids=invoice_ids
        ):
            scheme = c.mandate.scheme if c.mandate is not None else ""
            by_scheme.setdefault(scheme, []).append(c.invoice.pk)
        # Invoices without a mandate stay with the first group, whose batch refuses them.
        groups = [ids for _scheme, ids in sorted(by_scheme.items(), key=lambda kv: kv[0] != "CORE")] or [
            invoice_ids
        ]
        unknown = set(invoice_ids) - {pk for ids in groups for pk in ids}
        groups[0] += sorted(unknown)
    return [
        batch_create(
            organization=organization,
            collection_date=collection_date,
            invoice_ids=ids,
            user=user,
            today=today,
            kind=kind,
        )
        for ids in groups
    ]


def _collection(c: Candidate) -> sepa_xml.Collection:
    m = c.mandate
    return sepa_xml.Collection(
        end_to_end_id=sepa_id(c.invoice.number),
        amount=c.amount,
        scheme=m.scheme,
        sequence_type=c.sequence_type,
        mandate_reference=m.reference,
        mandate_signed_on=m.signed_on,
        debtor_name=m.debtor_name or c.payer.name,
        iban=m.iban,
        bic=m.bic,
        remittance=_remittance(c.invoice),
        original_reference=m.original_reference,
        original_iban=m.original_iban,
    )


# --- after creation --------------------------------------------------------------------------


def _locked(batch: DirectDebitBatch) -> DirectDebitBatch:
    return DirectDebitBatch.objects.select_for_update().get(pk=batch.pk)


@transaction.atomic
def batch_submit(*, batch: DirectDebitBatch, user) -> DirectDebitBatch:
    """The file went to the bank: the mandates are used from now on (FRST done, the
    amendment reported)."""
    batch = _locked(batch)
    if batch.status != BatchStatus.CREATED:
        raise ValidationError(_("Only a created batch can be marked as submitted."))
    batch.status = BatchStatus.SUBMITTED
    batch.submitted_at = timezone.now()
    batch.save(update_fields=["status", "submitted_at"])
    mandate_ids = set(batch.items.filter(mandate__isnull=False).values_list("mandate_id", flat=True))
    for mandate in SepaMandate.objects.select_for_update().filter(pk__in=mandate_ids).order_by("pk"):
        if mandate.last_collected_on is None or mandate.last_collected_on < batch.collection_date:
            mandate.last_collected_on = batch.collection_date
        mandate.original_reference = ""
        mandate.original_iban = ""
        mandate.save(update_fields=["last_collected_on", "original_reference", "original_iban"])
    audit_log(
        organization=batch.organization, user=user, action="payment.batch_submitted", obj=batch, data={}
    )
    return batch


@transaction.atomic
def batch_settle(*, batch: DirectDebitBatch, user, date: dt.date | None = None) -> DirectDebitBatch:
    """The bank credited the collections: each pending item is booked as a payment of
    its invoice (what is no longer open stays as the payer's credit)."""
    from .services import payment_record

    batch = _locked(batch)
    if batch.status != BatchStatus.SUBMITTED:
        raise ValidationError(_("Only a submitted batch can be settled."))
    date = date or batch.collection_date
    channel = PaymentChannel.GOCARDLESS if batch.kind == BatchKind.GOCARDLESS else PaymentChannel.DIRECT_DEBIT
    items = list(batch.items.filter(status=ItemStatus.PENDING).select_related("document", "payer"))
    opens = open_amounts([i.document for i in items])
    for item in items:
        take = min(opens[item.document_id], item.amount)
        payment = payment_record(
            organization=batch.organization,
            payer=item.payer,
            amount=item.amount,
            date=date,
            channel=channel,
            user=user,
            allocations=[(item.document, take)] if take > ZERO else [],
            reference=item.end_to_end_id,
            source_key=f"dd:{item.pk}",
        )
        opens[item.document_id] -= max(take, ZERO)
        item.status = ItemStatus.SETTLED
        item.payment = payment
        item.save(update_fields=["status", "payment"])
    batch.status = BatchStatus.SETTLED
    batch.settled_at = timezone.now()
    batch.save(update_fields=["status", "settled_at"])
    audit_log(
        organization=batch.organization,
        user=user,
        action="payment.batch_settled",
        obj=batch,
        data={"items": len(items)},
    )
    return batch


@transaction.atomic
def item_return(*, item: DirectDebitItem, reason: str, date: dt.date, user) -> DirectDebitItem:
    """A collection came back with ``reason``: the invoice is open again and the
    organization's return fee, if any, is charged to the payer. Before settlement (a
    reject) nothing was booked, so only the item ends."""
    from .services import charge_add, return_record

    item = (
        DirectDebitItem.objects.select_for_update()
        .select_related("batch", "document", "payer")
        .get(pk=item.pk)
    )
    if reason not in RETURN_REASON_CODES:
        raise ValidationError(_("Choose the return reason the bank reported."))
    if item.batch.status not in (BatchStatus.SUBMITTED, BatchStatus.SETTLED):
        raise ValidationError(_("Only a submitted or settled collection can come back."))
    if item.status not in (ItemStatus.PENDING, ItemStatus.SETTLED):
        raise ValidationError(_("This collection has already come back."))
    organization = item.batch.organization
    fee = payment_settings_for(organization).return_fee
    if item.status == ItemStatus.SETTLED:
        allocated = (
            Allocation.objects.filter(payment_id=item.payment_id, document_id=item.document_id).aggregate(
                s=Sum("amount")
            )["s"]
            or ZERO
        )
        amount = allocated if allocated > ZERO else item.amount
        return_record(
            organization=organization,
            invoice=item.document,
            amount=amount,
            date=date,
            reason=reason,
            user=user,
            fee=fee,
            source_key=f"ddret:{item.pk}",
            channel=item.payment.channel if item.payment_id else PaymentChannel.DIRECT_DEBIT,
        )
    elif fee > ZERO:
        from .models import ChargeKind

        charge_add(
            organization=organization,
            payer=item.payer,
            kind=ChargeKind.RETURN_FEE,
            amount=fee,
            date=date,
            due_date=date,
            text=_("Return fee %(number)s") % {"number": item.document.number},
            document=item.document,
            user=user,
        )
    item.status = ItemStatus.RETURNED
    item.return_reason = reason
    item.returned_on = date
    item.save(update_fields=["status", "return_reason", "returned_on"])
    audit_log(
        organization=organization,
        user=user,
        action="payment.collection_returned",
        obj=item.batch,
        data={"invoice": item.document.number, "reason": reason, "amount": str(item.amount)},
    )
    return item


@transaction.atomic
def batch_cancel(*, batch: DirectDebitBatch, user) -> DirectDebitBatch:
    """A created batch that was not sent: its invoices are free for another batch."""
    batch = _locked(batch)
    if batch.status != BatchStatus.CREATED:
        raise ValidationError(_("Only a batch not yet submitted can be cancelled."))
    batch.items.filter(status=ItemStatus.PENDING).update(status=ItemStatus.CANCELLED)
    batch.status = BatchStatus.CANCELLED
    batch.save(update_fields=["status"])
    audit_log(
        organization=batch.organization, user=user, action="payment.batch_cancelled", obj=batch, data={}
    )
    return batch


# --- GoCardless ---------------------------------------------------------------------------------

GOCARDLESS_PAYMENT_COLUMNS = ["mandate_id", "customer_id", "amount", "currency", "description", "charge_date"]
GOCARDLESS_MANDATE_COLUMNS = [
    "customer.given_name",
    "customer.family_name",
    "customer.company_name",
    "customer.email",
    "customer.address_line1",
    "customer.address_line2",
    "customer.city",
    "customer.postal_code",
    "customer.country_code",
    "customer_bank_account.account_holder_name",
    "customer_bank_account.iban",
    "mandate.reference",
    "mandate.scheme",
    "mandate.signature_date",
    "mandate.creditor_id",
]


def _csv(rows: list[list[str]], header: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def gocardless_payments_csv(chosen: list[Candidate], *, charge_date: dt.date) -> bytes:
    """GoCardless' bulk payment import: one row per invoice, amounts in euros."""
    rows = [
        [
            c.payer.gocardless_mandate_id,
            c.payer.number or str(c.payer.pk),
            f"{c.amount:.2f}",
            "EUR",
            _remittance(c.invoice)[:100],
            charge_date.isoformat(),
        ]
        for c in chosen
    ]
    return _csv(rows, GOCARDLESS_PAYMENT_COLUMNS)


def gocardless_mandates_csv(*, organization, today: dt.date) -> bytes:
    """Active SEPA mandates in the columns of GoCardless' mandate import, so they can be
    moved to GoCardless with their original reference and creditor id (no new signature)."""
    from .mandates import mandate_valid_on

    rows = []
    mandates = mandate_valid_on(today).select_related("customer").order_by("customer__name", "pk")
    for m in mandates:
        c = m.customer
        email = c.invoice_email
        given, _sep, family = (m.debtor_name or "").rpartition(" ")
        rows.append(
            [
                given if given else "",
                family,
                c.name,
                email,
                c.street,
                "",
                c.city,
                c.postal_code,
                c.country or "DE",
                m.debtor_name,
                m.iban,
                m.reference,
                "sepa_core" if m.scheme == "CORE" else "sepa_b2b",
                m.signed_on.isoformat(),
                organization.creditor_id,
            ]
        )
    return _csv(rows, GOCARDLESS_MANDATE_COLUMNS)
