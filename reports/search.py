"""One search box for the whole back office: customers, folders, document and serial numbers.

Each source contributes a small function; the search view shows every group that found
something. Sources whose app is not installed yet are simply absent. The page's filters
(`Filters`) go to every source; each applies those that concern it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from organizations.collation import german

LIMIT = 20

# Values of the third-party payer filter, as in the folder list: "1" only folders with a
# third-party payer (financed), "0" only folders without one.
THIRD_PARTY_VALUES = ("1", "0")


@dataclass(frozen=True)
class Hit:
    title: str
    subtitle: str
    url: str
    badges: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    third_party: str = ""  # one of THIRD_PARTY_VALUES, or "" for all folders

    @classmethod
    def from_query(cls, params) -> Filters:
        """The filters a URL asks for; unknown values mean "no filter"."""
        third_party = params.get("third_party", "")
        return cls(third_party=third_party if third_party in THIRD_PARTY_VALUES else "")


def _customers(q: str, filters: Filters) -> list[Hit]:
    from customers.models import Customer

    rows = Customer.objects.filter(
        Q(name__icontains=q) | Q(number__iexact=q) | Q(city__icontains=q) | Q(email__icontains=q)
    ).order_by(german("name"), "pk")[:LIMIT]
    hits = []
    for c in rows:
        badges = []
        if c.is_prospect:
            badges.append(str(_("Prospect")))
        if c.is_financier:
            badges.append(str(_("Financier")))
        hits.append(
            Hit(
                c.name,
                # A prospect has no number until it is converted.
                " · ".join(part for part in (c.number, c.city) if part),
                reverse("customers:detail", args=[c.pk]),
                tuple(badges),
            )
        )
    return hits


def _folders(q: str, filters: Filters) -> list[Hit]:
    from folders.models import Folder

    rows = Folder.objects.filter(
        Q(number__iexact=q)
        | Q(name__icontains=q)
        | Q(customer__name__icontains=q)
        # The financier's contract number is what its letters and statements quote.
        | Q(financing__contract_reference__icontains=q)
    )
    if filters.third_party == "1":
        rows = rows.filter(financing__isnull=False)
    elif filters.third_party == "0":
        # On the join column, as in the folder list: PostgreSQL makes it an anti-join.
        rows = rows.filter(financing__folder__isnull=True)
    rows = rows.select_related("customer", "financing__financier").order_by("-id")[:LIMIT]
    hits = []
    for f in rows:
        financing = getattr(f, "financing", None)
        badges = [str(f.get_status_display())]
        subtitle = f"{f.number} · {f.customer.name}"
        if financing is not None:
            badges.append(str(_("Third-party payer")))
            # Not inside the f-string: makemessages cannot see msgids there.
            financed_by = _("financed by")
            subtitle += f" · {financed_by} {financing.financier.name}"
            if financing.contract_reference:
                subtitle += f" ({financing.contract_reference})"
        hits.append(Hit(f.name, subtitle, reverse("folders:detail", args=[f.pk]), tuple(badges)))
    return hits


def _documents(q: str, filters: Filters) -> list[Hit]:
    from documents.models import Document

    rows = (
        Document.objects.exclude(number="")
        .filter(number__icontains=q)
        .select_related("payer")
        .order_by("-issue_date", "-id")[:LIMIT]
    )
    return [
        Hit(
            f"{d.get_kind_display()} {d.number}",
            f"{d.recipient_name} · {date_format(d.issue_date, 'SHORT_DATE_FORMAT')}"
            if d.issue_date
            else d.recipient_name,
            reverse("documents:detail", args=[d.pk]),
            (str(d.get_status_display()),),
        )
        for d in rows
    ]


def _serials(q: str, filters: Filters) -> list[Hit]:
    from folders.models import Equipment

    rows = (
        Equipment.objects.filter(serial_number__icontains=q)
        .select_related("line__folder__customer")
        .order_by("serial_number")[:LIMIT]
    )
    hits = []
    for e in rows:
        folder = e.line.folder
        warranty = (
            _("warranty until %(date)s") % {"date": date_format(e.warranty_end, "SHORT_DATE_FORMAT")}
            if e.warranty_end
            else ""
        )
        subtitle = " · ".join(
            str(x) for x in (folder.customer.name, f"{folder.number} {folder.name}", warranty) if x
        )
        hits.append(
            Hit(
                f"{e.serial_number} – {e.line.description[:60]}",
                subtitle,
                reverse("folders:detail", args=[folder.pk]),
            )
        )
    return hits


Source = Callable[[str, Filters], list[Hit]]

SOURCES: list[tuple[str, Source]] = [
    (_("Customers and prospects"), _customers),
    (_("Folders"), _folders),
    (_("Documents"), _documents),
    (_("Devices by serial number"), _serials),
]


def register(label, func: Source) -> None:
    SOURCES.append((label, func))


def search(q: str, *, filters: Filters | None = None) -> list[tuple[str, list[Hit]]]:
    q = q.strip()
    if len(q) < 2:
        return []
    filters = filters or Filters()
    groups = []
    for label, func in SOURCES:
        hits = func(q, filters)
        if hits:
            groups.append((label, hits))
    return groups
