"""Every write to customers, contacts, contact functions, notes and actions.

Each service validates (`full_clean()`), writes inside one transaction and records an
audit entry filed under the customer, so the customer's "Verlauf" shows every change
with its old and new values. Views, other apps and the demo seed call these; nothing
else writes these tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.audit import audit_changes, audit_log, audited_delete, diff, snapshot
from organizations.models import Membership, Organization
from organizations.numbering import number_next

from .models import Action, Contact, ContactFunction, Customer, CustomerKind, DeliverySite, Note
from .selectors import customer_duplicates
from .signals import contact_changed, customer_mandate_changed

User = get_user_model()

# Fields a caller may set on a customer. The number comes from the numbering service,
# the kind only changes through prospect_convert, the organization never changes.
CUSTOMER_EDITABLE = frozenset(
    f.name
    for f in Customer._meta.concrete_fields
    if f.name not in {"id", "organization", "number", "kind", "converted_at", "created_at", "updated_at"}
)
CUSTOMER_AUDITED = [
    f.name
    for f in Customer._meta.concrete_fields
    if f.name not in {"id", "organization", "created_at", "updated_at"}
]
CONTACT_EDITABLE = frozenset(
    {
        "salutation",
        "first_name",
        "last_name",
        "function",
        "email",
        "phone",
        "mobile",
        "is_active",
        "is_invoice_recipient",
        "has_portal_access",
    }
)
CONTACT_AUDITED = sorted(CONTACT_EDITABLE)
ACTION_EDITABLE = frozenset({"due_on", "assignee", "description"})
ACTION_AUDITED = ["due_on", "assignee", "description"]

DEFAULT_CONTACT_FUNCTIONS = ["Technik", "Buchhaltung", "Geschäftsführung", "Einkauf"]


def _snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """Audit values; people are recorded by their name, as the history shows them."""
    values = snapshot(obj, fields)
    for name in fields:
        value = getattr(obj, name, None)
        if isinstance(value, User):
            values[name] = value.get_full_name() or value.get_username()
    return values


def _filled_in(obj, fields: list[str]) -> dict[str, list[Any]]:
    """A new record's audited values that are set, as changes from nothing."""
    return diff({}, {k: v for k, v in _snapshot(obj, fields).items() if v})


def _assign(obj, data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    for key, value in data.items():
        setattr(obj, key, value)


# --- Customers -------------------------------------------------------------------------

# The customer's own SEPA mandate as the payment form shows it. The payments app keeps
# the mandates; these fields are their copy on the row (see customer_mandate_changed).
MANDATE_FIELDS = ("iban", "bic", "account_holder", "mandate_reference", "mandate_signed_on")


def _announce_mandate(customer: Customer, user, before: dict[str, Any], data: dict[str, Any]) -> None:
    """Hand a changed mandate to the app that owns mandates, then re-read the copy it wrote."""
    after = {name: getattr(customer, name) for name in MANDATE_FIELDS}
    if not any(name in data for name in MANDATE_FIELDS) or after == before:
        return
    customer_mandate_changed.send(sender=Customer, customer=customer, user=user, before=before, after=after)
    customer.refresh_from_db(fields=list(MANDATE_FIELDS))


# The fields that identify a company; a change to one of them is checked for duplicates.
IDENTIFYING_FIELDS = ("name", "postal_code", "vat_id", "iban")


def _check_duplicates(customer: Customer, reason: str) -> list[str]:
    """Refuse a record that looks like another one of the organization unless the user
    gave a reason; returns the other records' numbers for the audit trail."""
    duplicates = customer_duplicates(
        organization=customer.organization,
        name=customer.name,
        postal_code=customer.postal_code,
        vat_id=customer.vat_id,
        iban=customer.iban,
        exclude_pk=customer.pk,
    )
    if duplicates and not reason.strip():
        raise ValidationError(
            {
                "duplicate_reason": _(
                    "%(records)s may be the same company. Open the existing record, or give a reason "
                    "to save anyway."
                )
                % {"records": ", ".join(f"{d.customer.number} {d.customer.name}" for d in duplicates)}
            },
            code="duplicate",
        )
    return [d.customer.number for d in duplicates]


def _log_duplicate(customer: Customer, user, numbers: list[str], reason: str) -> None:
    if numbers:
        audit_log(
            organization=customer.organization,
            user=user,
            action="customer.duplicate_confirmed",
            obj=customer,
            data={"message": f"{reason.strip()} ({', '.join(numbers)})", "duplicates": numbers},
        )


def customer_create(
    *,
    organization: Organization,
    user,
    kind: str = CustomerKind.CUSTOMER,
    data: dict[str, Any],
    duplicate_reason: str = "",
) -> Customer:
    """Create a customer with the next number of the organization's customer range, or
    a prospect without one (it gets its number on conversion, see `prospect_convert`).

    The number is taken inside the transaction that stores the record: a failed save
    gives it back. A record that looks like an existing company (same VAT ID, IBAN, or
    name and postal code) is only created with a `duplicate_reason`, which is audited.
    """
    customer = Customer(organization=organization, kind=kind)
    _assign(customer, data, CUSTOMER_EDITABLE)
    with transaction.atomic():
        duplicates = _check_duplicates(customer, duplicate_reason)
        if kind != CustomerKind.PROSPECT:
            customer.number = number_next(organization=organization, kind="customer")
        customer.full_clean()
        customer.save()
        _announce_mandate(customer, user, dict.fromkeys(MANDATE_FIELDS), data)
        audit_log(
            organization=organization,
            user=user,
            action="customer.created",
            obj=customer,
            data={"changes": _filled_in(customer, CUSTOMER_AUDITED)},
        )
        _log_duplicate(customer, user, duplicates, duplicate_reason)
    return customer


def customer_update(
    *, customer: Customer, user, data: dict[str, Any], duplicate_reason: str = ""
) -> Customer:
    """Change a customer's master, commercial or payment data; audits old -> new values.

    The stored row is re-read under a lock, so the "old" values are the ones in the
    database even when the caller's instance was already modified (ModelForms do that).
    A change of name, postal code, VAT ID or IBAN that makes the record look like another
    one needs a `duplicate_reason` (other edits of a known duplicate do not ask again).
    """
    with transaction.atomic():
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        before = _snapshot(current, CUSTOMER_AUDITED)
        was_financier = current.is_financier
        identity = [getattr(current, name) for name in IDENTIFYING_FIELDS]
        mandate_before = {name: getattr(current, name) for name in MANDATE_FIELDS}
        _assign(current, data, CUSTOMER_EDITABLE)
        current.full_clean()
        if was_financier and not current.is_financier:
            _check_finances_nothing(current)
        duplicates = []
        if identity != [getattr(current, name) for name in IDENTIFYING_FIELDS]:
            duplicates = _check_duplicates(current, duplicate_reason)
        _log_duplicate(current, user, duplicates, duplicate_reason)
        current.save()
        _announce_mandate(current, user, mandate_before, data)
        changes = diff(before, _snapshot(current, CUSTOMER_AUDITED))
        audit_changes(current, changes, user=user, action="customer.changed")
    return current


def _check_finances_nothing(customer: Customer) -> None:
    """A financier stays flagged while it finances folders (the financing app's rows
    reach it through the reverse relation `financings`)."""
    numbers = list(
        customer.financings.order_by("folder__number").values_list("folder__number", flat=True)[:6]
    )
    if numbers:
        shown = ", ".join(numbers[:5]) + (" …" if len(numbers) > 5 else "")
        raise ValidationError(
            {
                "is_financier": _(
                    "%(name)s still finances folders %(folders)s; remove or change those financings first."
                )
                % {"name": customer.name, "folders": shown}
            }
        )


def prospect_convert(*, customer: Customer, user) -> Customer:
    """Turn a prospect into a customer in place: the same row, so its contacts, notes,
    actions, folders and quotes stay attached; nothing is copied. Here it takes the next
    customer number (a prospect created before prospects went without keeps its own).

    Idempotent: for a record that already is a customer this is a no-op, so folder
    activation and quote acceptance can call it without checking first.
    """
    with transaction.atomic():
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        if current.kind == CustomerKind.CUSTOMER:
            return current
        # Only the kind changes; the other fields were validated when they were saved,
        # and an incomplete prospect must still be convertible (minimal data is allowed).
        changes = {"kind": [CustomerKind.PROSPECT.value, CustomerKind.CUSTOMER.value]}
        if not current.number:
            current.number = number_next(organization=current.organization, kind="customer")
            changes["number"] = ["", current.number]
        current.kind = CustomerKind.CUSTOMER
        current.converted_at = timezone.now()
        current.save(update_fields=["kind", "number", "converted_at", "updated_at"])
        audit_log(
            organization=current.organization,
            user=user,
            action="customer.converted",
            obj=current,
            data={"changes": changes},
        )
    customer.kind = current.kind
    customer.number = current.number
    customer.converted_at = current.converted_at
    return current


# --- Delivery sites --------------------------------------------------------------------

DELIVERY_SITE_EDITABLE = frozenset({"label", "name", "street", "postal_code", "city", "country"})
DELIVERY_SITE_AUDITED = sorted(DELIVERY_SITE_EDITABLE | {"is_default"})


def _site_log(site: DeliverySite, user, action: str, changes: dict[str, Any]) -> None:
    audit_log(
        organization=site.customer.organization,
        user=user,
        action=action,
        obj=site,
        target=site.customer,
        data={"model": "customers.deliverysite", "record": str(site), "changes": changes},
    )


def delivery_site_create(
    *, customer: Customer, user, data: dict[str, Any], is_default: bool = False
) -> DeliverySite:
    """Add a delivery site to the customer; the customer's first site is its default."""
    site = DeliverySite(organization_id=customer.organization_id, customer=customer)
    _assign(site, data, DELIVERY_SITE_EDITABLE)
    with transaction.atomic():
        # Locks the customer's sites, so two first sites cannot both become the default.
        has_default = (
            DeliverySite.objects.select_for_update().filter(customer=customer, is_default=True).exists()
        )
        if is_default and has_default:
            DeliverySite.objects.filter(customer=customer, is_default=True).update(is_default=False)
        site.is_default = is_default or not has_default
        site.full_clean()
        site.save()
        _site_log(site, user, "delivery_site.created", diff({}, snapshot(site, DELIVERY_SITE_AUDITED)))
    return site


def delivery_site_update(*, site: DeliverySite, user, data: dict[str, Any]) -> DeliverySite:
    """Change a site's address. Folders keep the address they copied (their documents
    printed it); a folder takes the new address when it picks the site again."""
    with transaction.atomic():
        current = DeliverySite.objects.select_for_update().get(pk=site.pk)
        before = snapshot(current, DELIVERY_SITE_AUDITED)
        _assign(current, data, DELIVERY_SITE_EDITABLE)
        current.full_clean()
        current.save()
        changes = diff(before, snapshot(current, DELIVERY_SITE_AUDITED))
        if changes:
            _site_log(current, user, "delivery_site.changed", changes)
    return current


def delivery_site_set_default(*, site: DeliverySite, user) -> DeliverySite:
    """Make `site` the customer's default: new folders start with its address."""
    with transaction.atomic():
        sites = DeliverySite.objects.select_for_update().filter(customer_id=site.customer_id)
        current = sites.get(pk=site.pk)
        if current.is_default:
            return current
        sites.filter(is_default=True).update(is_default=False)
        current.is_default = True
        current.save(update_fields=["is_default"])
        _site_log(current, user, "delivery_site.default_set", {"is_default": [False, True]})
    return current


# --- Contacts --------------------------------------------------------------------------


def _check_function(contact: Contact) -> None:
    if contact.function_id and contact.function.organization_id != contact.organization_id:
        raise ValidationError({"function": _("Choose a function of your organization.")})


def _child_create(obj, *, user, audited: list[str], check, action: str):
    """Store a new record filed under its customer's history (contact, action):
    validate, save, audit the values it was given."""
    check(obj)
    with transaction.atomic():
        obj.full_clean()
        obj.save()
        audit_log(
            organization=obj.customer.organization,
            user=user,
            action=action,
            obj=obj,
            target=obj.customer,
            data={"model": type(obj)._meta.label_lower, "changes": _filled_in(obj, audited)},
        )
    return obj


def _announce_contact(contact: Contact, user, before: dict[str, Any]) -> None:
    """Tell the apps built on contacts (the customer portal) what changed, inside the
    transaction: a receiver's refusal rolls the change back."""
    contact_changed.send(sender=Contact, contact=contact, user=user, before=before)


def contact_create(*, customer: Customer, user, data: dict[str, Any]) -> Contact:
    contact = Contact(organization_id=customer.organization_id, customer=customer)
    _assign(contact, data, CONTACT_EDITABLE)
    with transaction.atomic():
        contact = _child_create(
            contact, user=user, audited=CONTACT_AUDITED, check=_check_function, action="contact.created"
        )
        _announce_contact(contact, user, {})
    return contact


def _child_update(obj, *, user, data: dict[str, Any], editable, audited, check, action: str):
    """Change a record filed under its customer's history (contact, action): lock the
    stored row, so the audit shows the real old values, validate, save, audit."""
    model = type(obj)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=obj.pk)
        before = _snapshot(current, audited)
        _assign(current, data, editable)
        check(current)
        current.full_clean()
        current.save()
        changes = diff(before, _snapshot(current, audited))
        audit_changes(
            current,
            changes,
            user=user,
            action=action,
            target=current.customer,
            data={"model": model._meta.label_lower},
        )
    return current


def contact_update(*, contact: Contact, user, data: dict[str, Any]) -> Contact:
    with transaction.atomic():
        stored = Contact.objects.select_for_update().get(pk=contact.pk)
        before = {name: getattr(stored, name) for name in CONTACT_EDITABLE}
        contact = _child_update(
            contact,
            user=user,
            data=data,
            editable=CONTACT_EDITABLE,
            audited=CONTACT_AUDITED,
            check=_check_function,
            action="contact.changed",
        )
        _announce_contact(contact, user, before)
    return contact


def contact_set_active(*, contact: Contact, user, active: bool) -> Contact:
    """Deactivate (or reactivate) a contact. Inactive contacts keep their flags, so a
    reactivation restores them, but they receive nothing and appear in no choice list."""
    return contact_update(contact=contact, user=user, data={"is_active": active})


# --- Contact functions -----------------------------------------------------------------


def contact_function_create(*, organization: Organization, user, name: str) -> ContactFunction:
    function = ContactFunction(organization=organization, name=name.strip())
    with transaction.atomic():
        function.full_clean()
        function.save()
        audit_log(
            organization=organization,
            user=user,
            action="contact_function.created",
            obj=function,
            data={"changes": {"name": [None, function.name]}},
        )
    return function


def contact_function_update(*, function: ContactFunction, user, name: str) -> ContactFunction:
    with transaction.atomic():
        current = ContactFunction.objects.select_for_update().get(pk=function.pk)
        old = current.name
        current.name = name.strip()
        current.full_clean()
        current.save()
        if old != current.name:
            audit_log(
                organization=current.organization,
                user=user,
                action="contact_function.changed",
                obj=current,
                data={"changes": {"name": [old, current.name]}},
            )
    return current


def contact_function_delete(*, function: ContactFunction, user) -> None:
    """Delete a function; contacts that had it keep existing without a function."""
    audited_delete(
        function,
        user=user,
        action="contact_function.deleted",
        data={"changes": {"name": [function.name, None]}},
    )


def contact_functions_ensure_defaults(*, organization: Organization) -> list[ContactFunction]:
    """The usual functions (technical, accounting, management, purchasing); idempotent."""
    with transaction.atomic():
        return [
            ContactFunction.objects.get_or_create(organization=organization, name=name)[0]
            for name in DEFAULT_CONTACT_FUNCTIONS
        ]


# --- Notes -----------------------------------------------------------------------------


def note_create(*, customer: Customer, user, text: str) -> Note:
    note = Note(organization_id=customer.organization_id, customer=customer, text=text.strip(), author=user)
    with transaction.atomic():
        note.full_clean()
        note.save()
        audit_log(
            organization=customer.organization,
            user=user,
            action="note.created",
            obj=note,
            target=customer,
            data={"message": note.text[:300]},
        )
    return note


def note_delete(*, note: Note, user) -> None:
    """Delete a note. Who may delete which note is decided by the caller (author or admin)."""
    audited_delete(
        note, user=user, action="note.deleted", target=note.customer, data={"message": note.text[:300]}
    )


# --- Actions ---------------------------------------------------------------------------


def _check_assignee(action: Action) -> None:
    """The assignee must be a member of the action's organization (never another tenant's user)."""
    if (
        action.assignee_id
        and not Membership.objects.filter(
            organization_id=action.organization_id, user_id=action.assignee_id
        ).exists()
    ):
        raise ValidationError({"assignee": _("Choose a member of your organization.")})


def action_create(
    *,
    customer: Customer,
    user,
    due_on: dt.date,
    description: str,
    assignee=None,
    source: str = "",
    system_text: dict | None = None,
) -> Action:
    """Create a follow-up action. With a `source` (e.g. ``contract_end:<line id>``) the
    action is created once: a second call returns the existing one."""
    if source:
        existing = Action.objects.filter(customer=customer, source=source).first()
        if existing is not None:
            return existing
    action = Action(
        organization_id=customer.organization_id,
        customer=customer,
        due_on=due_on,
        description=description.strip(),
        assignee=assignee,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        source=source,
        system_text=system_text,
    )
    return _child_create(
        action, user=user, audited=ACTION_AUDITED, check=_check_assignee, action="action.created"
    )


def action_update(*, action: Action, user, data: dict[str, Any]) -> Action:
    return _child_update(
        action,
        user=user,
        data=data,
        editable=ACTION_EDITABLE,
        audited=ACTION_AUDITED,
        check=_check_assignee,
        action="action.changed",
    )


def _set_done(action: Action, user, done: bool) -> Action:
    with transaction.atomic():
        current = Action.objects.select_for_update().get(pk=action.pk)
        if current.is_done == done:
            return current
        current.done_at = timezone.now() if done else None
        current.save(update_fields=["done_at"])
        audit_log(
            organization=current.organization,
            user=user,
            action="action.done" if done else "action.reopened",
            obj=current,
            target=current.customer,
            data={"message": current.description[:300]},
        )
    return current


def action_complete(*, action: Action, user) -> Action:
    """Mark an action as done; idempotent."""
    return _set_done(action, user, True)


def action_reopen(*, action: Action, user) -> Action:
    """Open a done action again; idempotent."""
    return _set_done(action, user, False)
