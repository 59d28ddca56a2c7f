"""From the database to what a run plans with, reading only: which billing accounts a
run looks at (`account_ids`), and everything a chunk of them needs - customers and
contacts, folders with their financing, recurring lines with their changes and the
charges billed so far, open one-off lines with their equipment - loaded in a constant
number of queries (`load_accounts`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Q

from catalog.models import Product, TaxRate
from customers.models import Contact, Customer
from folders.models import Equipment, Folder, FolderStatus, OneOffLine, RecurringLine, RecurringLineChange
from folders.selectors import recurring_line_end

from . import engine
from .history import settled_day
from .line_billing import CHANGE_FIELDS, ChangeRow, effective_billing_day, is_billing
from .models import BillingCharge

# Terminated folders stay in the run for a while after their end (final in-arrears
# periods, end credits, one-off lines still to invoice); after that they are settled.
TERMINATED_GRACE = dt.timedelta(days=400)


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


@dataclass
class Loaded:
    """Everything a chunk of billing accounts needs, loaded once and looked up by id."""

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


def _lines_by_folder(
    lines,
    *,
    customer_ids: Sequence[int],
    folders: dict[int, Folder],
    rates: dict[int, TaxRate],
    products: dict,
) -> dict[int, list]:
    """The chunk's folder lines of the queryset `lines` per folder, in their order, each
    linked to its loaded folder and tax rate; their products are noted in `products`
    (as None) to be loaded at once."""
    by_folder: dict[int, list] = defaultdict(list)
    for line in _in_chunk(lines, "folder__customer_id", customer_ids).order_by("folder_id", "position", "id"):
        folder = folders.get(line.folder_id)
        if folder is None:
            continue
        _attach(line, "folder", folder)
        _attach(line, "tax_rate", rates[line.tax_rate_id])
        by_folder[line.folder_id].append(line)
        if line.product_id:
            products[line.product_id] = None
    return by_folder


def load_accounts(*, organization, customer_ids: Sequence[int], period: dt.date) -> Loaded:
    """The billing accounts `customer_ids` with everything their plan reads, related
    objects attached so that following them costs no query."""
    wanted = set(customer_ids)
    if not wanted:
        return Loaded({}, {}, {}, {}, {}, {}, {})
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
    financier_ids = {f.financing.financier_id for f in folders if financing_of(f) is not None} - set(
        customers
    )
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
        financing = financing_of(folder)
        if financing is not None:
            _attach(financing, "financier", customers[financing.financier_id])
            _attach(financing, "folder", folder)
        by_id[folder.pk] = folder
        by_customer[folder.customer_id].append(folder)

    rates = {rate.pk: rate for rate in TaxRate.objects.filter(organization=organization)}
    products: dict[int, Product] = {}
    lines: dict[int, list[RecurringLine]] = _lines_by_folder(
        RecurringLine.objects.filter(organization=organization),
        customer_ids=customer_ids,
        folders=by_id,
        rates=rates,
        products=products,
    )
    line_by_id = {line.pk: line for folder_lines in lines.values() for line in folder_lines}

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

    oneoffs: dict[int, list[OneOffLine]] = _lines_by_folder(
        OneOffLine.objects.filter(organization=organization, invoice_document_id__isnull=True),
        customer_ids=customer_ids,
        folders=by_id,
        rates=rates,
        products=products,
    )
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
    return Loaded(
        customers=customers,
        folders=by_customer,
        lines=lines,
        changes=changes,
        history=history,
        oneoffs=oneoffs,
        pieces=pieces,
        settled=settled,
    )


def financing_of(folder: Folder):
    """The folder's financing, None when it has none."""
    try:
        return folder.financing
    except ObjectDoesNotExist:
        return None


def _settled(line: RecurringLine, rows: list[dict], changes: Sequence[ChangeRow]) -> dt.date | None:
    seen = max((r["terms_version"] for r in rows), default=0)
    return settled_day(
        cycle=engine.Cycle(line.cycle),
        billing_day=effective_billing_day(line.folder, line.folder.organization),
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
        cycle, effective_billing_day(line.folder, line.folder.organization), line.billed_through
    )[0]


def _needs_deep_history(line: RecurringLine, history: dict[int, list[dict]], settled: dt.date | None) -> bool:
    start = _last_billed_start(line)
    if start is None:
        return False  # never billed: the window holds all its charges
    rows = history.get(line.pk, [])
    if not any(is_billing(r["kind"]) for r in rows):
        return False  # billed through a day, but not by this system: nothing to read
    return settled is None or settled < start - engine.ONE_DAY
