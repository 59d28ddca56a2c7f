"""From the database to the invoices a run would issue - reading only, writing nothing.

`plan_accounts` loads a slice of billing accounts (end customers) with everything the
run needs in a constant number of queries, asks the pure engine what each recurring
line owes (billing.engine.due_charges, on the history narrowed by billing.history),
picks up the one-off lines not yet invoiced, asks `payer_for` who pays each line and
groups the lines into invoices. The preview shows this plan; the run stores it. One
code path for both is what makes "the preview is what the run does" true.

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
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DatabaseError
from django.db.models import F, Q

from catalog.models import Product, TaxRate, Unit
from catalog.units import unit_label
from customers.models import Contact, Customer
from documents import texts as doc_texts
from documents.bulk import InvoiceSpec, invoice_problem
from documents.composition import LineSpec, leased_object_for, oneoff_spec, with_delivery
from documents.engine import LineInput, compute_totals, format_number
from documents.models import LineSource
from documents.services import check_financing_approved, check_oneoff_lines_match_quote
from documents.tax import line_tax
from financing.services import payer_for
from folders.delivery import oneoff_deliveries
from folders.models import Equipment, Folder, FolderStatus, OneOffLine, RecurringLine, RecurringLineChange
from folders.selectors import recurring_line_end, segments_from
from organizations.money import line_net

from . import engine
from . import texts as billing_texts
from .history import settle_through, settled_day
from .models import BillingCharge, FailureReason, SkipReason

logger = logging.getLogger(__name__)

UNIT_PRICE_PLACES = Decimal("0.0001")
# Terminated folders stay in the run for a while after their end (final in-arrears
# periods, end credits, one-off lines still to invoice); after that they are settled.
TERMINATED_GRACE = dt.timedelta(days=400)


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
class LineBilling:
    """What a run does to one recurring line: its new charges and billed_through."""

    line: RecurringLine
    charges: list[engine.Charge]
    terms_version: int
    billed_through: dt.date | None  # the new value (never earlier than the stored one)
    # Set on a line's first run after it was taken over from an earlier system (billed
    # through a day, no charges of ours): the run records that day as billed elsewhere.
    taken_over_through: dt.date | None = None


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


# --- which accounts --------------------------------------------------------------------


def billable_folders(*, organization, period: dt.date):
    """Folders a run for `period` looks at: in service (active, suspended) or terminated
    recently enough to owe a final period or a credit."""
    return (
        Folder.objects.filter(organization=organization)
        .exclude(status=FolderStatus.DRAFT)
        .exclude(
            Q(status=FolderStatus.TERMINATED)
            & (
                Q(end_date__isnull=True, updated_at__date__lt=period - TERMINATED_GRACE)
                | Q(end_date__lt=period - TERMINATED_GRACE)
            )
        )
    )


def account_ids(*, organization, period: dt.date) -> list[int]:
    """The billing accounts of a run: end customers owning a billable folder, by id."""
    return sorted(
        set(billable_folders(organization=organization, period=period).values_list("customer_id", flat=True))
    )


# --- loading -----------------------------------------------------------------------------


def _billing_day(folder: Folder, organization) -> int:
    day = folder.billing_day or organization.billing_day or 1
    return min(max(int(day), 1), 28)


def _billed(row) -> engine.BilledCharge:
    return engine.BilledCharge(
        period_start=row["period_start"],
        kind=row["kind"],
        service_start=row["service_start"],
        service_end=row["service_end"],
        quantity=row["quantity"],
        unit_price=row["unit_price"],
        amount=row["amount"],
        period_end=row.get("period_end"),
    )


HISTORY_FIELDS = (
    "recurring_line_id",
    "period_start",
    "period_end",
    "kind",
    "service_start",
    "service_end",
    "quantity",
    "unit_price",
    "amount",
    "terms_version",
)


class ChangeRow(NamedTuple):
    """A RecurringLineChange as the run reads it (in bulk, one query per chunk)."""

    id: int
    effective_from: dt.date
    quantity: Decimal
    unit_price: Decimal
    previous_quantity: Decimal
    previous_unit_price: Decimal


CHANGE_FIELDS = ("id", "effective_from", "quantity", "unit_price", "previous_quantity", "previous_unit_price")


def change_rows(*, organization, line_ids) -> dict[int, list[ChangeRow]]:
    """{line id: its changes by effective date and id} for many lines in one query."""
    rows: dict[int, list[ChangeRow]] = defaultdict(list)
    for line_id, *values in (
        RecurringLineChange.objects.filter(organization=organization, line_id__in=line_ids)
        .order_by("effective_from", "id")
        .values_list("line_id", *CHANGE_FIELDS)
    ):
        rows[line_id].append(ChangeRow(*values))
    return rows


def segments_of(line: RecurringLine, changes: Sequence[ChangeRow]) -> list[dict]:
    """The versions of quantity and price, from change rows read in bulk for the run."""
    return segments_from(line, changes)


@dataclass
class _Loaded:
    customers: dict[int, Customer]
    folders: dict[int, list[Folder]]  # customer id -> its billable folders
    lines: dict[int, list[RecurringLine]]  # folder id -> lines
    changes: dict[int, list[ChangeRow]]  # line id -> changes
    history: dict[int, list[dict]]  # line id -> charge rows (window or complete)
    oneoffs: dict[int, list[OneOffLine]]  # folder id -> open one-off lines
    pieces: dict[int, list[Equipment]]  # one-off line id -> pieces
    settled: dict[int, dt.date | None] = field(default_factory=dict)  # line id -> see history.settled_day


def _attach(obj, name: str, value) -> None:
    """Put an already loaded related object in place of a foreign key's cache, so that
    `obj.<name>` costs no query. (The descriptor's __set__ does the same with checks
    that cost more than the rest of the loading for 60,000 lines.)"""
    obj._state.fields_cache[name] = value


def _in_chunk(qs, field: str, customer_ids: Sequence[int]):
    """Rows of the chunk's customers: a range on the (sorted, contiguous) chunk, refined in
    Python by the caller - much cheaper than an IN list of hundreds of ids per query."""
    return qs.filter(**{f"{field}__gte": min(customer_ids), f"{field}__lte": max(customer_ids)})


def _load(*, organization, customer_ids: Sequence[int], period: dt.date) -> _Loaded:
    wanted = set(customer_ids)
    if not wanted:
        return _Loaded({}, {}, {}, {}, {}, {}, {})
    contacts = defaultdict(list)
    for contact in _in_chunk(Contact.objects.filter(organization=organization), "customer_id", customer_ids):
        contacts[contact.customer_id].append(contact)
    customers = {}
    for customer in _in_chunk(Customer.objects.filter(organization=organization), "pk", customer_ids):
        if customer.pk in wanted:
            customers[customer.pk] = customer
    folders = [
        folder
        for folder in _in_chunk(
            billable_folders(organization=organization, period=period), "customer_id", customer_ids
        )
        .select_related("financing__financier")
        .order_by("customer_id", "number", "id")
        if folder.customer_id in wanted
    ]
    financier_ids = {f.financing.financier_id for f in folders if _financing(f) is not None} - set(customers)
    if financier_ids:
        for customer in Customer.objects.filter(organization=organization, pk__in=financier_ids):
            customers[customer.pk] = customer
        for contact in Contact.objects.filter(organization=organization, customer_id__in=financier_ids):
            contacts[contact.customer_id].append(contact)
    for customer in customers.values():
        _attach(customer, "organization", organization)
        # Where prefetch_related("contacts") leaves its result, so customer.contacts.all()
        # (all the recipient snapshot asks) costs no query. A list, not a QuerySet per
        # customer: building 20,000 querysets cost more than the rest of the loading.
        customer._prefetched_objects_cache = {
            "contacts": sorted(contacts.get(customer.pk, []), key=lambda c: (c.last_name, c.first_name, c.pk))
        }
    by_id: dict[int, Folder] = {}
    by_customer: dict[int, list[Folder]] = defaultdict(list)
    for folder in folders:
        _attach(folder, "organization", organization)
        _attach(folder, "customer", customers[folder.customer_id])
        financing = _financing(folder)
        if financing is not None:
            _attach(financing, "financier", customers[financing.financier_id])
            _attach(financing, "folder", folder)
        by_id[folder.pk] = folder
        by_customer[folder.customer_id].append(folder)

    rates = {rate.pk: rate for rate in TaxRate.objects.filter(organization=organization)}
    products: dict[int, Product] = {}
    lines: dict[int, list[RecurringLine]] = defaultdict(list)
    line_by_id: dict[int, RecurringLine] = {}
    for line in _in_chunk(
        RecurringLine.objects.filter(organization=organization), "folder__customer_id", customer_ids
    ).order_by("folder_id", "position", "id"):
        folder = by_id.get(line.folder_id)
        if folder is None:
            continue
        _attach(line, "folder", folder)
        _attach(line, "tax_rate", rates[line.tax_rate_id])
        lines[line.folder_id].append(line)
        line_by_id[line.pk] = line
        if line.product_id:
            products[line.product_id] = None

    changes: dict[int, list[ChangeRow]] = defaultdict(list)
    for line_id, *values in (
        _in_chunk(
            RecurringLineChange.objects.filter(organization=organization),
            "line__folder__customer_id",
            customer_ids,
        )
        .order_by("effective_from", "id")
        .values_list("line_id", *CHANGE_FIELDS)
    ):
        if line_id in line_by_id:
            changes[line_id].append(ChangeRow(*values))

    # The window: from the last billed period on (period_end >= billed_through), the
    # setup charge, and everything of lines never billed. Deeper history is read below
    # for the few lines whose unseen changes or end reach further back.
    history: dict[int, list[dict]] = defaultdict(list)
    window = _in_chunk(
        BillingCharge.objects.filter(organization=organization),
        "recurring_line__folder__customer_id",
        customer_ids,
    ).filter(
        Q(period_end__gte=F("recurring_line__billed_through"))
        | Q(recurring_line__billed_through__isnull=True)
        | Q(kind=engine.SETUP)
    )
    for row in window.values(*HISTORY_FIELDS):
        if row["recurring_line_id"] in line_by_id:
            history[row["recurring_line_id"]].append(row)
    settled = {
        line_id: _settled(line, history.get(line_id, []), changes.get(line_id, []))
        for line_id, line in line_by_id.items()
    }
    deep = [
        line_id
        for line_id, line in line_by_id.items()
        if _needs_deep_history(line, history, settled[line_id])
    ]
    if deep:
        for line_id in deep:
            history[line_id] = []
        for row in BillingCharge.objects.filter(organization=organization, recurring_line_id__in=deep).values(
            *HISTORY_FIELDS
        ):
            history[row["recurring_line_id"]].append(row)

    oneoffs: dict[int, list[OneOffLine]] = defaultdict(list)
    for line in _in_chunk(
        OneOffLine.objects.filter(organization=organization, invoice_document_id__isnull=True),
        "folder__customer_id",
        customer_ids,
    ).order_by("folder_id", "position", "id"):
        folder = by_id.get(line.folder_id)
        if folder is None:
            continue
        _attach(line, "folder", folder)
        _attach(line, "tax_rate", rates[line.tax_rate_id])
        oneoffs[line.folder_id].append(line)
        if line.product_id:
            products[line.product_id] = None
    if products:
        products.update(Product.objects.filter(organization=organization).in_bulk(list(products)))
        for line in [*line_by_id.values(), *(o for os in oneoffs.values() for o in os)]:
            if line.product_id:
                _attach(line, "product", products[line.product_id])
    pieces: dict[int, list[Equipment]] = defaultdict(list)
    oneoff_ids = [line.pk for ls in oneoffs.values() for line in ls]
    if oneoff_ids:
        for piece in Equipment.objects.filter(organization=organization, line_id__in=oneoff_ids).order_by(
            "line_id", "piece"
        ):
            pieces[piece.line_id].append(piece)
    return _Loaded(
        customers=customers,
        folders=by_customer,
        lines=lines,
        changes=changes,
        history=history,
        oneoffs=oneoffs,
        pieces=pieces,
        settled=settled,
    )


def _financing(folder: Folder):
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def is_billing(kind: str) -> bool:
    """Charges that bill days (and move billed_through), as opposed to credits and setup."""
    return kind == engine.PERIOD or kind.startswith(engine.CHANGE_CHARGE_PREFIX)


def _settled(line: RecurringLine, rows: list[dict], changes: Sequence[ChangeRow]) -> dt.date | None:
    seen = max((r["terms_version"] for r in rows), default=0)
    return settled_day(
        cycle=engine.Cycle(line.cycle),
        billing_day=_billing_day(line.folder, line.folder.organization),
        billed_through=line.billed_through,
        unseen_change_starts=[c.effective_from for c in changes if c.id > seen],
        end=recurring_line_end(line),
        setup_pending=bool(line.setup_fee) and not any(r["kind"] == engine.SETUP for r in rows),
        has_history=any(is_billing(r["kind"]) for r in rows),
        elsewhere_through=line.billed_elsewhere_through,
    )


def _last_billed_start(line: RecurringLine) -> dt.date | None:
    if line.billed_through is None:
        return None
    cycle = engine.Cycle(line.cycle)
    return engine.period_bounds(
        cycle, _billing_day(line.folder, line.folder.organization), line.billed_through
    )[0]


def _needs_deep_history(line: RecurringLine, history: dict[int, list[dict]], settled: dt.date | None) -> bool:
    start = _last_billed_start(line)
    if start is None:
        return False  # never billed: the window holds all its charges
    rows = history.get(line.pk, [])
    if not any(is_billing(r["kind"]) for r in rows):
        return False  # billed through a day, but not by this system: nothing to read
    return settled is None or settled < start - engine.ONE_DAY


# --- the engine, per line ---------------------------------------------------------------


def line_terms(line: RecurringLine, changes: Sequence[ChangeRow]) -> engine.LineTerms:
    segments = segments_of(line, changes)
    return engine.LineTerms(
        cycle=engine.Cycle(line.cycle),
        timing=engine.Timing(line.timing),
        start=line.start_date,
        end=recurring_line_end(line),
        segments=tuple(engine.Segment(**s) for s in segments),
        trial_end=line.trial_end,
        setup_fee=line.setup_fee,
        billing_day=_billing_day(line.folder, line.folder.organization),
    )


def bill_line(
    line: RecurringLine,
    *,
    period: dt.date,
    rows: list[dict],
    changes: Sequence[ChangeRow],
    settled: dt.date | None,
    arrears_cutoff: dt.date | None = None,
) -> LineBilling:
    """What `line` owes in the run for `period` (raises engine.BillingConflict);
    `arrears_cutoff`: see `arrears_cutoff`."""
    terms = line_terms(line, changes)
    taken_over = (
        line.billed_elsewhere_through is None
        and line.billed_through is not None
        and not any(is_billing(r["kind"]) for r in rows)
    )
    if taken_over or line.billed_elsewhere_through is not None:
        # Taken over from an earlier system, which billed the setup fee.
        terms = replace(terms, setup_fee=Decimal("0"))
    narrowed, history = settle_through(terms, [_billed(r) for r in rows], settled)
    charges = engine.due_charges(narrowed, run_month=period, billed=history, arrears_cutoff=arrears_cutoff)
    through = line.billed_through
    for charge in charges:
        if is_billing(charge.kind) and (through is None or charge.service_end > through):
            through = charge.service_end
    version = max((c.id for c in changes), default=0)
    return LineBilling(
        line=line,
        charges=charges,
        terms_version=version,
        billed_through=through,
        taken_over_through=line.billed_through if taken_over else None,
    )


# --- invoice lines -------------------------------------------------------------------------


def _split(text: str) -> tuple[str, str]:
    head, _sep, rest = (text or "").strip().partition("\n")
    return head.strip(), rest.strip()


def _join(*parts: str) -> str:
    return "\n".join(p for p in parts if p)


def charge_spec(line: RecurringLine, charge: engine.Charge, language: str, group_title: str) -> LineSpec:
    """The invoice line for one charge: the line's text, the days it covers and why.

    A prorated charge shows the price of its days as unit price (4 places), so that
    quantity x unit price = the charge, to the cent; should the rounding ever disagree
    (very large quantities) it is printed as one lump sum naming the quantity.
    """
    title, rest = _split(line.description)
    days = engine.days_in(charge.service_start, charge.service_end)
    period_days = engine.days_in(charge.period_start, charge.period_end)
    reason = (
        billing_texts.text(
            language,
            charge.description,
            days=days,
            period_days=period_days,
            start=doc_texts.date(language, charge.service_start),
        )
        if charge.description in billing_texts.TEXTS["de"]
        else ""
    )
    unit = line.unit  # a code; labelled where it is shown (catalog.units)
    common = {
        "tax_rate": line.tax_rate.rate,
        "sku": line.product.sku if line.product_id else "",
        "source_kind": LineSource.RECURRING,
        "source_line_id": line.pk,
        "source_folder_id": line.folder_id,
        "group_title": group_title,
        "service_start": charge.service_start,
        "service_end": charge.service_end,
    }
    if charge.kind == engine.SETUP:
        return LineSpec(
            description=billing_texts.text(language, "setup_title", title=title),
            quantity=Decimal("1"),
            unit=Unit.FLAT,
            unit_price=charge.amount,
            **common,
        )
    period_text = billing_texts.period(language, charge.service_start, charge.service_end)
    quantity, unit_price = charge.quantity, charge.unit_price
    price_text = ""
    if (charge.service_start, charge.service_end) != (charge.period_start, charge.period_end) and quantity:
        price_text = billing_texts.text(
            language, "period_price", price=doc_texts.eur(language, charge.unit_price)
        )
        unit_price = (charge.amount / quantity).quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
        if line_net(quantity, unit_price) != charge.amount:
            price_text = _join(
                price_text,
                billing_texts.text(
                    language,
                    "flat_quantity",
                    quantity=_qty(quantity, language),
                    unit=unit_label(unit, quantity, language),
                ),
            )
            quantity = Decimal("1") if charge.amount >= 0 else Decimal("-1")
            unit_price = abs(charge.amount)
            unit = Unit.FLAT
    return LineSpec(
        description=title,
        detail=_join(rest, period_text, reason, price_text),
        quantity=quantity,
        unit=unit,
        unit_price=unit_price,
        cycle=line.cycle,
        **common,
    )


def _qty(quantity: Decimal, language: str) -> str:
    return format_number(quantity, doc_texts.lang_of(language), places=None)


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


def _awaiting_delivery(folder: Folder, loaded: _Loaded) -> Skip | None:
    """One-off lines are invoiced once delivered (folders.delivery); the run never
    issues an advance invoice, so undelivered ones wait and are listed as skipped."""
    oneoffs = loaded.oneoffs.get(folder.pk, [])
    if not oneoffs:
        return None
    deliveries = oneoff_deliveries(oneoffs, loaded.pieces)
    waiting = [line for line in oneoffs if not deliveries[line.pk].delivered]
    if not waiting:
        return None
    names = ", ".join(_split(line.description)[0] for line in waiting)
    return Skip(folder=folder, reason=SkipReason.AWAITING_DELIVERY, message=names[:300], lines=waiting)


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
    customer: Customer, loaded: _Loaded, *, organization, period: dt.date, as_of: dt.date
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
        waiting = _awaiting_delivery(folder, loaded)
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
        financing = _financing(invoice.folders[0])
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


def _fill_specs(invoice: PlannedInvoice, loaded: _Loaded) -> None:
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
    loaded = _load(organization=organization, customer_ids=customer_ids, period=period)
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
                    failures=[Failure(reason=FailureReason.ERROR, message=repr(exc)[:1000], payer=customer)],
                )
            )
    return plans
