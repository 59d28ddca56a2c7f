"""From the database to the invoices a run would issue - reading only, writing nothing.

`plan_accounts` loads a slice of billing accounts (end customers) with everything the
run needs in a constant number of queries, asks the pure engine what each recurring
line owes (billing.engine.due_charges, on the history narrowed by billing.history),
picks up the one-off lines not yet invoiced, asks `payer_for` who pays each line and
groups the lines into invoices. The preview shows this plan; the run stores it. One
code path for both is what makes "the preview is what the run does" true.

The loading lives in billing.loading, what one recurring line owes and the invoice line
of each charge in billing.line_billing; this module decides per folder and payer.

Grouping (AC: who gets the invoice):
* lines paid by the folder's own customer: one invoice per folder, or - when the
  customer consolidates invoices - one invoice across all its folders of this run,
  the lines grouped by folder (DocumentLine.group_title);
* lines paid by someone else (the financier of a financed folder's hardware): one
  invoice per folder, never merged across end customers.
Since every payer other than the end customer gets one invoice per folder, a billing
account (an end customer with its folders) is complete on its own, which is why the
run fans out over accounts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from customers.models import Customer
from documents import texts as doc_texts
from documents.bulk import InvoiceSpec, invoice_problem
from documents.composition import LineSpec, leased_object_for, oneoff_spec, with_delivery
from documents.engine import LineInput, compute_totals
from documents.services import check_financing_approved, check_oneoff_lines_match_quote
from documents.tax import line_tax
from financing.payer import oneoffs_withheld, rejected_financing_of, rejected_note
from financing.services import payer_for
from folders.delivery import oneoff_deliveries
from folders.models import Folder, FolderStatus, OneOffLine, RecurringLine

from . import engine
from .line_billing import (
    CHANGE_FIELDS,
    UNIT_PRICE_PLACES,
    ChangeRow,
    LineBilling,
    bill_line,
    charge_spec,
    is_billing,
    line_terms,
    segments_of,
    split_description,
)
from .loading import (
    HISTORY_FIELDS,
    TERMINATED_GRACE,
    Loaded,
    account_ids,
    billable_folders,
    change_rows,
    financing_of,
    load_accounts,
)
from .models import FailureReason, SkipReason
from .system_texts import exception_text

logger = logging.getLogger(__name__)

__all__ = [
    "CHANGE_FIELDS",
    "FOLDER_PROBLEMS",
    "HISTORY_FIELDS",
    "TERMINATED_GRACE",
    "UNIT_PRICE_PLACES",
    "AccountPlan",
    "ChangeRow",
    "Failure",
    "LineBilling",
    "PlannedInvoice",
    "Skip",
    "account_ids",
    "arrears_cutoff",
    "bill_line",
    "billable_folders",
    "change_rows",
    "charge_spec",
    "is_billing",
    "line_terms",
    "plan_accounts",
    "segments_of",
]


@dataclass
class Skip:
    folder: Folder
    reason: str
    message: str = ""
    until: dt.date | None = None
    lines: list[OneOffLine] = field(default_factory=list)  # the one-off lines left out

    @property
    def label(self) -> str:
        return SkipReason(self.reason).label


@dataclass
class Failure:
    reason: str
    message: str
    payer: Customer | None = None
    folder: Folder | None = None
    line: RecurringLine | None = None

    @property
    def label(self) -> str:
        return FailureReason(self.reason).label


@dataclass
class PlannedInvoice:
    payer: Customer
    customer: Customer
    folders: list[Folder]
    consolidated: bool
    specs: list[LineSpec] = field(default_factory=list)
    # (index into specs, line, charge) for every recurring charge on this invoice
    charges: list[tuple[int, RecurringLine, engine.Charge, int]] = field(default_factory=list)
    lines: list[LineBilling] = field(default_factory=list)
    oneoffs: list[OneOffLine] = field(default_factory=list)
    serials: list[str] = field(default_factory=list)
    problem: ValidationError | None = None
    small_business: bool = False  # the issuer's § 19 UStG status (no VAT on any line)
    stored: bool = False  # set by the run once the invoice is in the database

    @property
    def folder(self) -> Folder | None:
        """The folder the invoice is made from; None for a consolidated one of several."""
        return self.folders[0] if len(self.folders) == 1 else None

    @property
    def financed(self) -> bool:
        return self.payer.pk != self.customer.pk

    @property
    def direct_sale_notes(self) -> list[str]:
        """Why the end customer is invoiced for hardware of a financed folder: its
        financier rejected the financing (financing.payer)."""
        folders = {line.folder_id for line in self.oneoffs}
        return [
            rejected_note(folder)
            for folder in self.folders
            if folder.pk in folders and rejected_financing_of(folder) is not None
        ]

    @property
    def service_start(self) -> dt.date | None:
        days = [s.service_start for s in self.specs if s.service_start]
        return min(days) if days else None

    @property
    def service_end(self) -> dt.date | None:
        days = [s.service_end for s in self.specs if s.service_end]
        return max(days) if days else None

    def totals(self):
        inputs = [
            LineInput(
                quantity=s.quantity,
                unit_price=s.unit_price,
                discount_percent=s.discount_percent,
                # The rate the invoice will carry for this payer (as documents.services.line_values).
                tax_rate=line_tax(
                    treatment=self.payer.tax_treatment,
                    rate=s.tax_rate,
                    goods=s.goods,
                    exemption=self.payer.tax_exemption,
                    small_business=self.small_business,
                ).rate,
            )
            for s in self.specs
            if s.unit_price is not None
        ]
        return compute_totals(inputs)

    def to_spec(self) -> InvoiceSpec:
        folder = self.folder
        return InvoiceSpec(
            customer=self.customer,
            payer=self.payer,
            folder=folder,
            folders=self.folders,
            lines=self.specs,
            service_start=self.service_start,
            service_end=self.service_end,
            leased_object=leased_object_for(folder, self.serials) if self.financed and folder else None,
        )

    @property
    def key(self) -> tuple:
        """Stable identity across runs (for comparing a preview with a run)."""
        return (self.payer.pk, tuple(sorted(f.pk for f in self.folders)))


@dataclass
class AccountPlan:
    customer: Customer
    invoices: list[PlannedInvoice] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


# --- planning -------------------------------------------------------------------------------


def _skip(folder: Folder, *, as_of: dt.date) -> Skip | None:
    """Reasons to leave a folder out before looking at its lines."""
    if folder.status == FolderStatus.SUSPENDED:
        return Skip(folder=folder, reason=SkipReason.SUSPENDED)
    if folder.billing_hold_active(as_of):
        return Skip(
            folder=folder,
            reason=SkipReason.HOLD,
            message=folder.billing_hold_reason,
            until=folder.billing_hold_until,
        )
    if folder.next_billing_not_before and as_of < folder.next_billing_not_before:
        return Skip(folder=folder, reason=SkipReason.BILLING_DATE, until=folder.next_billing_not_before)
    return None


def _awaiting_delivery(folder: Folder, loaded: Loaded) -> Skip | None:
    """One-off lines are invoiced once delivered (folders.delivery); the run never
    issues an advance invoice, so undelivered ones wait and are listed as skipped."""
    oneoffs = loaded.oneoffs.get(folder.pk, [])
    if not oneoffs:
        return None
    deliveries = oneoff_deliveries(oneoffs, loaded.pieces)
    waiting = [line for line in oneoffs if not deliveries[line.pk].delivered]
    if not waiting:
        return None
    names = ", ".join(split_description(line.description)[0] for line in waiting)
    return Skip(folder=folder, reason=SkipReason.AWAITING_DELIVERY, message=names[:300], lines=waiting)


def _withheld(folder: Folder, loaded: Loaded) -> Skip | None:
    """The open one-off lines of a terminated folder whose financing was rejected: the
    deal fell through, nobody is invoiced for them (financing.payer.oneoffs_withheld)."""
    oneoffs = loaded.oneoffs.get(folder.pk, [])
    if not oneoffs or not oneoffs_withheld(folder):
        return None
    names = ", ".join(split_description(line.description)[0] for line in oneoffs)
    return Skip(folder=folder, reason=SkipReason.FINANCING_REJECTED, message=names[:300], lines=oneoffs)


def _nothing_due(folder: Folder, lines: list[RecurringLine], period: dt.date) -> Skip | None:
    trials = [line.trial_end for line in lines if line.trial_end and line.trial_end >= period]
    if trials:
        return Skip(folder=folder, reason=SkipReason.TRIAL, until=max(trials))
    if folder.status == FolderStatus.TERMINATED:
        return None  # finished; nothing to explain
    return Skip(folder=folder, reason=SkipReason.NOTHING_DUE)


def arrears_cutoff(*, organization, period: dt.date, as_of: dt.date) -> dt.date:
    """In-arrears periods that ended before this day are due: the organization's billing
    day in the run's month, or the day the run is made if that is earlier (a period is
    never billed in arrears before it ended)."""
    return min(period.replace(day=min(max(organization.billing_day or 1, 1), 28)), as_of)


def _plan_account(
    customer: Customer, loaded: Loaded, *, organization, period: dt.date, as_of: dt.date
) -> AccountPlan:
    plan = AccountPlan(customer=customer)
    cutoff = arrears_cutoff(organization=organization, period=period, as_of=as_of)
    invoices: dict[tuple[int, int | None], PlannedInvoice] = {}
    for folder in loaded.folders.get(customer.pk, []):
        skip = _skip(folder, as_of=as_of)
        if skip is not None:
            plan.skips.append(skip)
            continue
        lines = loaded.lines.get(folder.pk, [])
        items: list[tuple[Customer, str, object]] = []  # (payer, kind, payload)
        waiting = _withheld(folder, loaded) or _awaiting_delivery(folder, loaded)
        if waiting is not None:
            plan.skips.append(waiting)
        for line in loaded.oneoffs.get(folder.pk, []):
            if waiting is None or line not in waiting.lines:
                items.append((payer_for(line), "oneoff", line))
        for line in lines:
            changes = loaded.changes.get(line.pk, [])
            try:
                billing = bill_line(
                    line,
                    period=period,
                    rows=loaded.history.get(line.pk, []),
                    changes=changes,
                    settled=loaded.settled.get(line.pk),
                    arrears_cutoff=cutoff,
                )
            except (engine.BillingConflict, ValueError) as exc:
                plan.failures.append(
                    Failure(
                        reason=FailureReason.CONFLICT,
                        message=str(exc),
                        payer=folder.customer,
                        folder=folder,
                        line=line,
                    )
                )
                continue
            if billing.charges:
                items.append((payer_for(line), "recurring", billing))
        if not items:
            skip = None if waiting is not None else _nothing_due(folder, lines, period)
            if skip is not None:
                plan.skips.append(skip)
            continue
        for payer, kind, payload in items:
            consolidated = payer.pk == folder.customer_id and payer.consolidate_invoices
            key = (payer.pk, None if consolidated else folder.pk)
            invoice = invoices.get(key)
            if invoice is None:
                invoice = invoices[key] = PlannedInvoice(
                    payer=payer, customer=folder.customer, folders=[], consolidated=consolidated
                )
            if folder not in invoice.folders:
                invoice.folders.append(folder)
            if kind == "oneoff":
                invoice.oneoffs.append(payload)
            else:
                invoice.lines.append(payload)
    for invoice in invoices.values():
        _fill_specs(invoice, loaded)
        invoice.small_business = organization.small_business
        invoice.problem = _problem(invoice, organization)
        if invoice.problem is not None:
            plan.failures.append(
                Failure(
                    reason=(
                        FailureReason.CONFLICT
                        if getattr(invoice.problem, "code", None) in FOLDER_PROBLEMS
                        else FailureReason.PAYER_DATA_MISSING
                    ),
                    message=" ".join(invoice.problem.messages),
                    payer=invoice.payer,
                    folder=invoice.folder,
                )
            )
        else:
            plan.invoices.append(invoice)
    return plan


# Problems that need a decision in the folder rather than missing payer data.
FOLDER_PROBLEMS = {"quote_not_accepted", "differs_from_quote", "financing_not_approved", "financing_rejected"}


def _problem(invoice: PlannedInvoice, organization) -> ValidationError | None:
    problem = invoice_problem(
        organization=organization,
        customer=invoice.customer,
        payer=invoice.payer,
        folder=invoice.folder,
        lines=invoice.specs,
    )
    if problem is None and invoice.financed:
        financing = financing_of(invoice.folders[0])
        if financing is not None:
            try:
                check_financing_approved(financing, invoice.payer)
            except ValidationError as exc:
                problem = exc
    if problem is None:
        # One-off lines go out as the customer accepted them (documents.services).
        for folder in invoice.folders:
            lines = [o for o in invoice.oneoffs if o.folder_id == folder.pk]
            if not lines:
                continue
            try:
                check_oneoff_lines_match_quote(folder=folder, lines=lines)
            except ValidationError as exc:
                return exc
    return problem


def _fill_specs(invoice: PlannedInvoice, loaded: Loaded) -> None:
    language = doc_texts.lang_of(invoice.payer.language)
    many = len(invoice.folders) > 1
    for folder in invoice.folders:
        title = doc_texts.text(language, "folder", number=folder.number, name=folder.name) if many else ""
        oneoffs = [o for o in invoice.oneoffs if o.folder_id == folder.pk]
        # The date of supply of a one-off line is its delivery, as "invoice one-off now" prints it.
        deliveries = oneoff_deliveries(loaded.oneoffs.get(folder.pk, []), loaded.pieces) if oneoffs else {}
        days = {(d.first, d.last) for o in oneoffs if (d := deliveries[o.pk]).first}
        for line in oneoffs:
            pieces = loaded.pieces.get(line.pk, [])
            # The same line documents' "invoice one-off now" prints.
            spec = oneoff_spec(line, language, pieces, title)
            invoice.specs.append(with_delivery(spec, deliveries[line.pk], language, per_line=len(days) > 1))
            invoice.serials += [p.serial_number for p in pieces if p.serial_number]
        for billing in (b for b in invoice.lines if b.line.folder_id == folder.pk):
            for charge in billing.charges:
                invoice.charges.append((len(invoice.specs), billing.line, charge, billing.terms_version))
                invoice.specs.append(charge_spec(billing.line, charge, language, title))


def plan_accounts(
    *, organization, customer_ids: Sequence[int], period: dt.date, as_of: dt.date
) -> list[AccountPlan]:
    """The plan for these billing accounts, in the order of `customer_ids`."""
    loaded = load_accounts(organization=organization, customer_ids=customer_ids, period=period)
    plans = []
    for cid in customer_ids:
        customer = loaded.customers.get(cid)
        if customer is None:
            continue
        try:
            plans.append(
                _plan_account(customer, loaded, organization=organization, period=period, as_of=as_of)
            )
        except DatabaseError:
            raise  # the transaction is broken: the whole chunk is retried
        except Exception as exc:  # noqa: BLE001 - one account's bad data never blocks the others
            logger.exception("billing account %s could not be planned", cid)
            plans.append(
                AccountPlan(
                    customer=customer,
                    failures=[
                        Failure(reason=FailureReason.ERROR, message=exception_text(exc), payer=customer)
                    ],
                )
            )
    return plans
