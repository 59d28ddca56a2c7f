"""Reads shared by folder views, the customer page, billing, documents and search."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer
from customers.selectors import ids_or_subquery
from organizations.audit import history_for
from organizations.history import display_value, record_label
from organizations.models import AuditEntry
from organizations.money import money
from organizations.system_texts import render_text

from .models import Equipment, Folder, FolderStatus, OneOffLine, RecurringLine, RecurringLineChange


def folder_list() -> QuerySet[Folder]:
    """Folders with everything the list shows joined, so a page costs the same number
    of queries whatever its size (the table loads a page by ids: customers.tables.PageByIdsData)."""
    return Folder.objects.select_related("customer", "owner", "financing__financier")


def folder_search(qs: QuerySet[Folder], term: str) -> QuerySet[Folder]:
    """Number, name, customer name/number (also used by the global search).

    The customers are matched first (`ids_or_subquery`): with their ids as a list every
    OR-ed condition can use an index - the trigram indexes of migration folders/0002 on
    number and name, the (organization, customer) index - instead of a scan of all
    folders joined to their customers."""
    term = (term or "").strip()
    if not term:
        return qs
    customers = Customer.objects.filter(Q(name__icontains=term) | Q(number__iexact=term))
    # The cheap test first: where the rows are scanned (a term matching most folders),
    # a hash lookup of the customer spares most rows the two LIKEs.
    return qs.filter(
        Q(customer_id__in=ids_or_subquery(customers)) | Q(number__icontains=term) | Q(name__icontains=term)
    )


def folders_ending_within(qs: QuerySet[Folder], days: int, today: dt.date | None = None) -> QuerySet[Folder]:
    today = today or timezone.localdate()
    return qs.filter(contract_end__gte=today, contract_end__lte=today + dt.timedelta(days=days)).exclude(
        status=FolderStatus.TERMINATED
    )


def folder_detail(pk: int) -> Folder:
    """The folder with its lines, pieces and versions (raises Folder.DoesNotExist)."""
    return (
        Folder.objects.select_related("customer", "owner", "financing__financier", "created_by")
        .prefetch_related(
            Prefetch(
                "oneoff_lines",
                queryset=OneOffLine.objects.select_related("product", "tax_rate").prefetch_related(
                    Prefetch("equipment", queryset=Equipment.objects.order_by("piece"))
                ),
            ),
            Prefetch(
                "recurring_lines",
                queryset=RecurringLine.objects.select_related(
                    "product", "service_package", "tax_rate"
                ).prefetch_related(
                    Prefetch("changes", queryset=RecurringLineChange.objects.select_related("created_by"))
                ),
            ),
        )
        .get(pk=pk)
    )


def customer_folders(customer: Customer) -> QuerySet[Folder]:
    """The customer's own folders, newest first, with their line counts and what their
    badges show (the payer note reads the customer and the financier)."""
    return (
        Folder.objects.filter(customer=customer)
        .select_related("customer", "financing__financier", "owner")
        .annotate(
            oneoff_count=Count("oneoff_lines", distinct=True),
            recurring_count=Count("recurring_lines", distinct=True),
        )
        .order_by("-id")
    )


def financier_folders(customer: Customer) -> list[Folder]:
    """Folders of OTHER customers that `customer` finances (as financier), each with
    ``financed_net`` (its one-off lines: what the financier is invoiced) and
    ``invoiced_net`` (the part already invoiced), so its page shows what it owes."""
    folders = list(
        Folder.objects.filter(financing__financier=customer)
        .select_related("customer", "financing__financier")
        .prefetch_related("oneoff_lines")
        .order_by("-id")
    )
    for folder in folders:
        lines = list(folder.oneoff_lines.all())
        folder.financed_net = sum((line.net_amount for line in lines), Decimal("0.00"))
        folder.invoiced_net = sum((line.net_amount for line in lines if line.is_invoiced), Decimal("0.00"))
    return folders


# --- recurring lines for billing --------------------------------------------------------


def recurring_line_segments(line: RecurringLine) -> list[dict[str, Any]]:
    """Versions of quantity and price in force from their start (see `segments_from`),
    reading the line's changes with a query of its own."""
    return segments_from(
        line, list(RecurringLineChange.objects.filter(line_id=line.pk).order_by("effective_from", "id"))
    )


def segments_from(line: RecurringLine, changes: Sequence[Any]) -> list[dict[str, Any]]:
    """Versions of quantity and price in force from their start, for the billing engine:
    a list of {"start", "quantity", "unit_price", "change_id"} sorted by start, one per
    day, the first one (change_id "") in force on the line's start. The billing engine
    builds `billing.engine.Segment(**segment)` from each.

    `changes`: the line's changes (models, or rows read in bulk with the same attributes)
    sorted by effective_from and id. Several changes for the same day: the later one wins
    (its id is used). A change on or before the line's start replaces the first version.
    """
    if not changes:
        return [
            {
                "start": line.start_date,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "change_id": "",
            }
        ]
    segments = [
        {
            "start": line.start_date,
            "quantity": changes[0].previous_quantity,
            "unit_price": changes[0].previous_unit_price,
            "change_id": "",
        }
    ]
    for change in changes:
        if change.effective_from <= line.start_date:
            segments[0].update(quantity=change.quantity, unit_price=change.unit_price)
            continue
        segment = {
            "start": change.effective_from,
            "quantity": change.quantity,
            "unit_price": change.unit_price,
            "change_id": str(change.id),
        }
        if segments[-1]["start"] == change.effective_from:
            segments[-1] = segment
        else:
            segments.append(segment)
    return segments


def segment_on(segments: list[dict[str, Any]], day: dt.date) -> dict[str, Any]:
    current = segments[0]
    for segment in segments[1:]:
        if segment["start"] > day:
            break
        current = segment
    return current


def recurring_line_end(line: RecurringLine) -> dt.date | None:
    """Last day of service: the line's end date, capped by its folder's end date."""
    ends = [d for d in (line.end_date, line.folder.end_date) if d is not None]
    return min(ends) if ends else None


def recurring_line_terms(line: RecurringLine) -> dict[str, Any]:
    """Everything `billing.engine.LineTerms` needs, as plain values (segments as dicts):
    billing does `LineTerms(cycle=Cycle(t["cycle"]), timing=Timing(t["timing"]),
    segments=tuple(Segment(**s) for s in t["segments"]), ...)`."""
    folder = line.folder
    return {
        "cycle": line.cycle,
        "timing": line.timing,
        "start": line.start_date,
        "end": recurring_line_end(line),
        "segments": recurring_line_segments(line),
        "trial_end": line.trial_end,
        "setup_fee": line.setup_fee,
        "billing_day": folder.billing_day or folder.organization.billing_day or 1,
    }


# --- equipment -----------------------------------------------------------------------


def equipment_search(term: str, *, limit: int = 50) -> QuerySet[Equipment]:
    """Pieces whose serial number contains `term` (the "customer calls about a device"
    case), with customer and folder joined."""
    term = (term or "").strip()
    if not term:
        return Equipment.objects.none()
    return (
        Equipment.objects.filter(serial_number__icontains=term)
        .select_related("line__folder__customer", "line__product", "line__folder__financing__financier")
        .order_by("serial_number", "id")[:limit]
    )


# --- history -------------------------------------------------------------------------


@dataclass
class HistoryRow:
    entry: AuditEntry
    title: str
    record: str = ""
    message: str = ""
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


# Apps that file entries under a folder (financing, documents) add their models and action
# titles through `history_register` from their AppConfig.ready(), so folders needs no
# import of them.
_HISTORY_MODELS: dict[str, type] = {
    "folder": Folder,
    "oneoff_line": OneOffLine,
    "equipment": Equipment,
    "recurring_line": RecurringLine,
}
_ACTION_TITLES: dict[str, Any] = {
    "folder.created": gettext_lazy("Folder created"),
    "folder.created_from_template": gettext_lazy("Created from standard installation"),
    "folder.changed": gettext_lazy("Folder changed"),
    "folder.activated": gettext_lazy("Folder activated"),
    "folder.suspended": gettext_lazy("Folder suspended"),
    "folder.terminated": gettext_lazy("Folder terminated"),
    "folder.cancelled": gettext_lazy("Cancellation recorded"),
    "folder.cancellation_withdrawn": gettext_lazy("Cancellation withdrawn"),
    "oneoff_line.added": gettext_lazy("One-off line added"),
    "oneoff_line.changed": gettext_lazy("One-off line changed"),
    "oneoff_line.deleted": gettext_lazy("One-off line deleted"),
    "oneoff_line.invoiced": gettext_lazy("One-off line invoiced"),
    "oneoff_line.invoice_cancelled": gettext_lazy("Invoice of one-off line cancelled"),
    "oneoff_line.delivered": gettext_lazy("One-off line delivered"),
    "equipment.changed": gettext_lazy("Equipment changed"),
    "recurring_line.added": gettext_lazy("Recurring line added"),
    "recurring_line.changed": gettext_lazy("Recurring line changed"),
    "recurring_line.version_added": gettext_lazy("Quantity/price changed"),
    "recurring_line.deleted": gettext_lazy("Recurring line deleted"),
}


def history_register(*, models: dict[str, type] | None = None, titles: dict[str, Any] | None = None) -> None:
    """Name the model behind an action prefix ("financing" -> Financing: the labels of its
    fields) and the title of each action ("financing.added" -> "Financing added")."""
    _HISTORY_MODELS.update(models or {})
    _ACTION_TITLES.update(titles or {})


def action_title(action: str) -> str:
    """The readable title of an audit action; the action itself when none is registered."""
    title = _ACTION_TITLES.get(action)
    return str(title) if title else action


def _field_labels(action: str) -> dict[str, str]:
    model = _HISTORY_MODELS.get(action.partition(".")[0], Folder)
    labels = {f.name: str(f.verbose_name) for f in model._meta.concrete_fields}
    labels["serial_numbers"] = _("serial numbers")
    return labels


def folder_history(folder: Folder, *, limit: int = 200) -> list[HistoryRow]:
    """The folder's audit trail (its own changes and those of its lines, equipment and
    financing), with field names turned into the labels the user knows."""
    rows = []
    for entry in history_for(folder)[:limit]:
        labels = _field_labels(entry.action)
        model = _HISTORY_MODELS.get(entry.action.partition(".")[0])
        data = entry.data or {}
        changes = []
        for key, values in (data.get("changes") or {}).items():
            name, _sep, piece = key.partition("#")
            label = labels.get(name, name)
            if piece:
                label = _("%(field)s (piece %(piece)s)") % {"field": label, "piece": piece}
            old, new = (values + [None, None])[:2] if isinstance(values, list) else (None, values)
            changes.append((label, display_value(model, name, old), display_value(model, name, new)))
        if not changes and data.get("values") and entry.action.endswith((".added", ".deleted", ".created")):
            for key, value in data["values"].items():
                if value not in (None, "", "0", "0.00", False):
                    changes.append((labels.get(key, key), None, display_value(model, key, value)))
        rows.append(
            HistoryRow(
                entry=entry,
                title=action_title(entry.action),
                record=record_label(model, data.get("record", "")),
                message=render_text(data.get("message", "")),
                changes=changes,
            )
        )
    return rows


def folder_totals(folder: Folder) -> dict[str, Decimal]:
    """Net sums shown under the line tables (one-off total, recurring per month)."""
    oneoff = sum((line.net_amount for line in folder.oneoff_lines.all()), Decimal("0"))
    monthly = Decimal("0")
    for line in folder.recurring_lines.all():
        monthly += line.net_amount / Decimal(line.cycle)
    return {"oneoff": oneoff, "monthly": money(monthly)}
