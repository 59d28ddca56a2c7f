"""Reads shared by views, the dashboard and other apps (billing, payments, portal)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.audit import history_for
from organizations.history import display_value, field_label, record_label
from organizations.models import Organization
from organizations.system_texts import render_text

from .models import (
    EMAIL_DELIVERY_METHODS,
    Action,
    Contact,
    Customer,
    CustomerKind,
    DeliveryMethod,
    DeliverySite,
    PaymentMethod,
    TaxTreatment,
)

User = get_user_model()


# Legal forms say nothing about which company it is: "Brandt GmbH" and "Brandt
# Bürotechnik GmbH & Co. KG" differ, "BRANDT GmbH" and "Brandt" do not.
_LEGAL_FORMS = re.compile(
    r"\b(gmbh|mbh|ag|kg|kgaa|ohg|gbr|ug|haftungsbeschrankt|haftungsbeschränkt|co|ek|e\.\s?k|ev|e\.\s?v|se|ltd|inc|sarl|sas)\b\.?"
)


def normalized_name(name: str) -> str:
    """The company name as duplicates are compared: case, spacing, punctuation and the
    legal form do not count."""
    text = (name or "").casefold().replace("&", " ")
    text = _LEGAL_FORMS.sub(" ", text)
    return "".join(char for char in text if char.isalnum())


@dataclass
class Duplicate:
    customer: Customer
    reasons: list[str]


def customer_duplicates(
    *,
    organization: Organization,
    name: str = "",
    postal_code: str = "",
    vat_id: str = "",
    iban: str = "",
    exclude_pk: int | None = None,
) -> list[Duplicate]:
    """Other records of the organization that look like the same real company: the same
    VAT ID, the same IBAN, or the same normalised name in the same postal code.

    One record per company is what keeps a folder's equipment, documents and payments in
    one place; a second record is almost always a mistake (the leasing "shadow customer")."""
    query = Q()
    if vat_id:
        query |= Q(vat_id=vat_id)
    if iban:
        query |= Q(iban=iban)
    key = normalized_name(name)
    if key and postal_code:
        query |= Q(postal_code=postal_code.strip())
    if not query:
        return []
    candidates = Customer.objects.filter(query, organization=organization).order_by("number")
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    found = []
    for candidate in candidates:
        reasons = []
        if vat_id and candidate.vat_id == vat_id:
            reasons.append(_("same VAT ID"))
        if iban and candidate.iban == iban:
            reasons.append(_("same IBAN"))
        if (
            key
            and postal_code
            and candidate.postal_code == postal_code.strip()
            and normalized_name(candidate.name) == key
        ):
            reasons.append(_("same name and postal code"))
        if reasons:
            found.append(Duplicate(customer=candidate, reasons=reasons))
    return found


def shared_vat_ids(*, organization: Organization) -> list[dict[str, Any]]:
    """VAT IDs used by more than one record of the organization, with those records
    (the data-quality page lists them for merging or correcting)."""
    shared = (
        Customer.objects.filter(organization=organization)
        .exclude(vat_id="")
        .values("vat_id")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
        .order_by("vat_id")
    )
    vat_ids = [row["vat_id"] for row in shared]
    records: dict[str, list[Customer]] = defaultdict(list)
    for customer in Customer.objects.filter(organization=organization, vat_id__in=vat_ids).order_by("number"):
        records[customer.vat_id].append(customer)
    return [{"vat_id": vat_id, "customers": records[vat_id]} for vat_id in vat_ids]


def customer_list(*, kind: str | None = None) -> QuerySet[Customer]:
    """Customers of the active scope with what the list shows, in a constant number of
    queries: account manager joined, open/overdue actions counted in SQL.

    The counts are correlated subqueries, not a join with GROUP BY: a page then counts
    the actions of its own rows only, and counting the list (the paginator) or cutting
    a page out of it needs no aggregate over every customer's actions."""
    today = timezone.localdate()
    open_actions = Action.objects.filter(customer=OuterRef("pk"), done_at__isnull=True)
    qs = Customer.objects.select_related("owner").annotate(
        open_actions=_count(open_actions),
        overdue_actions=_count(open_actions.filter(due_on__lt=today)),
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def tax_review_count() -> int:
    """Customers whose tax treatment still needs review (left by the old "VAT liable"
    checkbox): they get no invoice until someone chooses it, so the list points them out."""
    return Customer.objects.filter(tax_treatment=TaxTreatment.NEEDS_REVIEW).count()


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT(*) of a correlated queryset as a subquery expression (0 when empty)."""
    return Coalesce(
        Subquery(queryset.order_by().values("customer").annotate(n=Count("pk")).values("n")[:1]),
        0,
        output_field=IntegerField(),
    )


# How many matches `ids_or_subquery` still passes as a list of values.
IDS_IN_QUERY_LIMIT = 500


def ids_or_subquery(queryset: QuerySet, field: str = "pk", *, limit: int | None = None) -> list | QuerySet:
    """What `queryset` matches in `field`, for an `__in` filter OR-ed with others.

    Few matches come back as a list of values: the database can then combine an index
    scan for `x IN (1, 2, ...)` with those of the other OR-ed conditions (a search box
    over several columns and related rows). An `IN (subquery)` in an OR cannot use an
    index, so it costs a scan of the whole table - the right plan only when the term
    matches many rows anyway, so beyond `limit` matches the subquery is returned.
    """
    limit = IDS_IN_QUERY_LIMIT if limit is None else limit
    values = list(queryset.order_by().values_list(field, flat=True)[: limit + 1])
    if len(values) <= limit:
        return values
    return queryset.order_by().values(field)


def customer_search(qs: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """One box for name, number, city, postal code, e-mail, phone and contact names/e-mails.

    On PostgreSQL the trigram indexes of migration customers/0002 serve each of these
    conditions (`UPPER(column) LIKE '%TERM%'`, as Django writes icontains)."""
    term = (term or "").strip()
    if not term:
        return qs
    contact_hits = Contact.objects.filter(
        Q(last_name__icontains=term) | Q(first_name__icontains=term) | Q(email__icontains=term)
    )
    phone = Q(phone__icontains=term)
    digits = re.sub(r"\D", "", term).lstrip("0")
    if len(digits) >= 4 and re.fullmatch(r"[\d\s()+/.\-]+", term):
        # Numbers are stored in E.164: "030 123456" is found as "+4930123456" by the
        # digits after the trunk prefix.
        phone |= Q(phone__icontains=digits)
    return qs.filter(
        Q(pk__in=ids_or_subquery(contact_hits, "customer_id"))  # the cheap test first (folder_search)
        | Q(name__icontains=term)
        | Q(name_addition__icontains=term)
        | Q(number__icontains=term)
        | Q(city__icontains=term)
        | Q(postal_code__startswith=term)
        | Q(email__icontains=term)
        | Q(invoice_email__icontains=term)
        | phone
    )


def financiers() -> QuerySet[Customer]:
    """Leasing companies that can pay for other customers' equipment (financing app)."""
    return Customer.objects.filter(is_financier=True, kind=CustomerKind.CUSTOMER)


def active_contacts(*, customer: Customer) -> QuerySet[Contact]:
    """Contacts for choice lists and notifications: only active ones."""
    return Contact.objects.filter(customer=customer, is_active=True).select_related("function")


def invoice_recipient_emails(*, customer: Customer) -> list[str]:
    """Where e-mailed invoices (and every other document mail) go: the customer's
    invoice e-mail, then every active contact flagged as invoice recipient; without
    either, the customer's own e-mail. Empty means an e-mail delivery cannot happen.

    Sending and the warning on the customer page both ask this, so the page never warns
    about a customer whose invoices do go out."""
    emails: list[str] = []
    if customer.invoice_email:
        emails.append(customer.invoice_email)
    for contact in customer.contacts.all():
        if (
            contact.is_active
            and contact.is_invoice_recipient
            and contact.email
            and contact.email not in emails
        ):
            emails.append(contact.email)
    if not emails and customer.email:
        emails.append(customer.email)
    return emails


def customer_warnings(*, customer: Customer) -> list[str]:
    """What keeps this customer's invoices from going out as configured.

    These are warnings, not form errors: the seed insists a record can be saved with
    minimal data and completed later, so the gaps are shown on the customer page (and
    checked again when invoices are dispatched) instead of blocking the save.
    """
    if customer.kind != CustomerKind.CUSTOMER:
        return []
    warnings = []
    if customer.delivery_method in EMAIL_DELIVERY_METHODS and not invoice_recipient_emails(customer=customer):
        warnings.append(
            _(
                "Invoices go out by e-mail, but there is no invoice e-mail and no active invoice recipient contact."
            )
        )
    if customer.delivery_method == DeliveryMethod.POST and not customer.has_billing_address:
        warnings.append(_("Invoices go out by post, but the address is incomplete."))
    if customer.delivery_method == DeliveryMethod.CHORUS_PRO and not customer.siret:
        warnings.append(_("Invoices go to Chorus Pro, which needs the customer's SIRET; none is entered."))
    if customer.payment_method == PaymentMethod.DIRECT_DEBIT and not customer.organization.creditor_id:
        warnings.append(
            _("Direct debit needs your organization's SEPA creditor identifier (Organization settings).")
        )
    if customer.is_financier and not (customer.has_billing_address and customer.vat_id):
        warnings.append(_("A financier needs a complete billing address and a VAT ID on its invoices."))
    return warnings


def organization_members(*, organization: Organization) -> QuerySet:
    """Users with a seat in the organization: the only valid assignees and account managers."""
    return (
        User.objects.filter(memberships__organization=organization)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def actions_between(
    *, start: dt.date, end: dt.date, assignee=None, only_open: bool = False
) -> QuerySet[Action]:
    qs = Action.objects.filter(due_on__gte=start, due_on__lte=end).select_related("customer", "assignee")
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    if only_open:
        qs = qs.filter(done_at__isnull=True)
    return qs.order_by("due_on", "id")


def actions_by_day(actions) -> dict[dt.date, list[Action]]:
    grouped: dict[dt.date, list[Action]] = defaultdict(list)
    for action in actions:
        grouped[action.due_on].append(action)
    return grouped


def open_actions(*, assignee=None) -> QuerySet[Action]:
    qs = Action.objects.filter(done_at__isnull=True).select_related("customer", "assignee")
    if assignee is not None:
        qs = qs.filter(assignee=assignee)
    return qs.order_by("due_on", "id")


# --- History ---------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    old: str
    new: str


_MODELS = {
    "customers.customer": Customer,
    "customers.contact": Contact,
    "customers.action": Action,
    "customers.deliverysite": DeliverySite,
}


def _record_label(data: dict[str, Any]) -> str:
    """Which contact or action an entry is about, in the reader's language (the stored
    label was written in the writer's language)."""
    record = data.get("record", "")
    if not record or data.get("message"):
        return ""  # notes and done actions carry their text as message already
    return record_label(_MODELS.get(data.get("model", "")), record)


def customer_history(*, customer: Customer, limit: int = 200) -> list[dict[str, Any]]:
    """The customer's audit trail with readable field names and values (old -> new)."""
    entries = []
    for entry in history_for(customer)[:limit]:
        data = entry.data or {}
        model = _MODELS.get(data.get("model", "customers.customer"), Customer)
        order = {f.name: i for i, f in enumerate(model._meta.fields)}
        raw = sorted((data.get("changes") or {}).items(), key=lambda item: order.get(item[0], 999))
        changes = [
            Change(
                label=field_label(model, name),
                old=display_value(model, name, values[0]),
                new=display_value(model, name, values[1]),
            )
            for name, values in raw
            if isinstance(values, list | tuple) and len(values) == 2
        ]
        entries.append(
            {
                "created_at": entry.created_at,
                "user": entry.user,
                "action": entry.action,
                "title": ACTION_TITLES.get(entry.action, entry.action),
                "record": _record_label(data),
                "message": render_text(data.get("message", "")),
                "changes": changes,
            }
        )
    return entries


ACTION_TITLES = {
    "customer.created": gettext_lazy("Record created"),
    "customer.changed": gettext_lazy("Record changed"),
    "customer.converted": gettext_lazy("Prospect converted into a customer"),
    "customer.duplicate_confirmed": gettext_lazy("Saved despite a possible duplicate"),
    "delivery_site.created": gettext_lazy("Delivery address added"),
    "delivery_site.changed": gettext_lazy("Delivery address changed"),
    "delivery_site.default_set": gettext_lazy("Default delivery address set"),
    "contact.created": gettext_lazy("Contact added"),
    "contact.changed": gettext_lazy("Contact changed"),
    "note.created": gettext_lazy("Note added"),
    "note.deleted": gettext_lazy("Note deleted"),
    "action.created": gettext_lazy("Action added"),
    "action.changed": gettext_lazy("Action changed"),
    "action.done": gettext_lazy("Action done"),
    "action.reopened": gettext_lazy("Action reopened"),
}
