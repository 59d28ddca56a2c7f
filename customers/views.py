"""Customer and prospect pages: the lists (with their CSV export), create, edit, payment
data, the customer page, the conversion of a prospect, delivery addresses and data quality.
Contacts and contact functions are in `contact_views.py`, notes, actions and the action
calendar in `action_views.py`.

Thin views: permission, form, one service call, a message naming the record, redirect.
Objects are fetched through scoped managers, so another organization's rows are 404.

Small actions (an action done or reopened, a contact switched on or off) and the list
filters answer htmx with the fragment that changed; the plain POST + redirect (or the
whole page) stays the answer without JavaScript.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import can, require
from organizations.panels import page_panels
from organizations.roles import Role
from organizations.tables import configure_table
from organizations.validators import format_phone
from organizations.view_kit import refusal_on

from . import selectors, services
from .filters import CustomerFilter
from .forms import ActionForm, CustomerForm, DeliverySiteForm, NoteForm, payment_form
from .models import Customer, CustomerKind, DeliverySite
from .tables import CustomerTable, ProspectTable

DETAIL_TABS = (
    "master",
    "commercial",
    "contacts",
    "payment",
    "folders",
    "documents",
    "notes",
    "actions",
    "history",
)


# The page whose panels add to each contact's row (see organizations.panels).
CONTACTS_PAGE = "customer.contacts"


def detail_url(customer: Customer, tab: str | None = None) -> str:
    url = reverse("customers:detail", args=[customer.pk])
    return f"{url}?tab={tab}" if tab else url


def simple_form_page(
    request, form, *, title: str, cancel_url: str, customer: Customer | None = None, **context
):
    """A page with one small form (note, action, contact, contact function, delivery
    address), under the customer's breadcrumbs when it belongs to one."""
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": customer, "title": title, "cancel_url": cancel_url, **context},
    )


def customer_summary(customer: Customer) -> dict:
    """What the customer page shows about actions and contacts outside their own tabs
    (the tab's badge, "at a glance"), refreshed beside a row that htmx swapped."""
    open_actions = customer.actions.filter(done_at__isnull=True).order_by("due_on", "id")
    return {
        "open_action_count": open_actions.count(),
        "next_action": open_actions.first(),
        "active_contact_count": customer.contacts.filter(is_active=True).count(),
    }


def _duplicates(form) -> list:
    """The records the service took for the same company, to show them with links
    beside the reason field."""
    if "duplicate_reason" not in form.errors:
        return []
    data, instance = form.cleaned_data, form.instance
    return selectors.customer_duplicates(
        organization=instance.organization,
        name=data.get("name", instance.name),
        postal_code=data.get("postal_code", instance.postal_code),
        vat_id=data.get("vat_id", instance.vat_id),
        iban=data.get("iban", instance.iban),
        exclude_pk=instance.pk,
    )


# --- Lists -----------------------------------------------------------------------------


@require("view")
def customer_list(request):
    return _list(request, prospects=False)


@require("view")
def prospect_list(request):
    return _list(request, prospects=True)


def _list(request, *, prospects: bool):
    data = request.GET.copy()
    if prospects:
        base = selectors.customer_list(kind=CustomerKind.PROSPECT)
    else:
        base = selectors.customer_list()
        # The customers list shows customers (financiers included) unless the filter asks
        # for prospects or for every kind ("kind=" in the URL).
        data.setdefault("kind", CustomerKind.CUSTOMER)
    filterset = CustomerFilter(data, queryset=base, with_kind=not prospects)
    queryset = filterset.qs
    if request.GET.get("export") == "csv":
        return _export_csv(queryset, prospects=prospects, home_country=request.organization.country)
    table = (ProspectTable if prospects else CustomerTable)(queryset, rows=base)
    configure_table(request, table)
    # Filtered means: other than the list's defaults. The filter bar sends every field back
    # with each search, the customers list's kind=customer among them.
    defaults = {} if prospects else {"kind": CustomerKind.CUSTOMER}
    filtered = any(
        value != defaults.get(key, "") for key, value in request.GET.items() if key in filterset.filters
    )
    context = {
        "filter": filterset,
        "table": table,
        "count": table.paginator.count,
        "filtered": filtered,
        "prospects": prospects,
        "title": _("Prospects") if prospects else _("Customers"),
        "list_url": reverse("customers:prospects" if prospects else "customers:list"),
        "create_url": reverse("customers:prospect_create" if prospects else "customers:create"),
        "create_label": _("Add prospect") if prospects else _("Add customer"),
        "sort": request.GET.get("sort", ""),
        "tax_review_count": selectors.tax_review_count(),
    }
    if _wants_list_fragment(request):
        response = render(request, "customers/_list_results.html", {**context, "oob": True})
    else:
        response = render(request, "customers/list.html", context)
    # One address, two answers: caches must not hand the table alone to a page load.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _wants_list_fragment(request) -> bool:
    """The filter bar asks htmx for the table alone. Restoring history (the back button
    after htmx's cache is gone) and boosted navigation from elsewhere need the page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet programs execute cells that start like a formula (CSV injection).
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def _export_csv(queryset, *, prospects: bool, home_country: str) -> HttpResponse:
    today = timezone.localdate().isoformat()
    name = "interessenten" if prospects else "kunden"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-{today}.csv"'
    response.write("\ufeff")  # BOM: Excel then reads the umlauts as UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("Customer number"),
            _("Kind"),
            _("Company name"),
            _("Name addition"),
            _("Street and number"),
            _("Postal code"),
            _("City"),
            _("Country"),
            _("E-mail"),
            _("Phone"),
            _("VAT ID"),
            _("Financier"),
            _("Payment"),
            _("Invoice delivery"),
            _("Invoice e-mail"),
            _("Open actions"),
        ]
    )
    for c in queryset.order_by("number"):
        writer.writerow(
            [
                _csv_cell(v)
                for v in (
                    c.number,
                    c.get_kind_display(),
                    c.name,
                    c.name_addition,
                    c.street,
                    c.postal_code,
                    c.city,
                    c.country,
                    c.email,
                    format_phone(c.phone, home_country),
                    c.vat_id,
                    _("yes") if c.is_financier else _("no"),
                    c.get_payment_method_display(),
                    c.get_delivery_method_display(),
                    c.invoice_email,
                    c.open_actions,
                )
            ]
        )
    return response


@require("view")
def data_quality(request):
    """Records that share a VAT ID: one company should have one record, so each group is
    either merged by hand or one VAT ID corrected."""
    return render(
        request,
        "customers/data_quality.html",
        {"shared_vat_ids": selectors.shared_vat_ids(organization=request.organization)},
    )


# --- Customer create / edit / detail / convert -----------------------------------------


def _warn_gaps(request, customer: Customer) -> None:
    for warning in selectors.customer_warnings(customer=customer):
        messages.warning(request, warning)


def _form_parts(request) -> tuple[str, ...]:
    """The parts of the customer form the user may fill: payment data only with its permission."""
    if can(request, "customers.payment"):
        return ("master", "commercial", "payment")
    return ("master", "commercial")


@require("customers.change")
def customer_create(request, kind: str = CustomerKind.CUSTOMER):
    parts = _form_parts(request)
    data = None
    if request.method == "POST":
        data = request.POST.copy()
        data.setdefault("kind", kind)  # the page's kind when a client leaves the select out
    form = CustomerForm(
        data, organization=request.organization, parts=parts, creating=True, initial={"kind": kind}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        chosen_kind = data.pop("kind") or kind
        reason = data.pop("duplicate_reason", "")
        with refusal_on(form):
            customer = services.customer_create(
                organization=request.organization,
                user=request.user,
                kind=chosen_kind,
                data=data,
                duplicate_reason=reason,
            )
            if customer.is_prospect:
                text = _("Prospect “%(name)s” created.")
            else:
                text = _("Customer “%(name)s” (%(number)s) created.")
            messages.success(request, text % {"name": customer.name, "number": customer.number})
            _warn_gaps(request, customer)
            return redirect(detail_url(customer))
    is_prospect = (form["kind"].value() if "kind" in form.fields else kind) == CustomerKind.PROSPECT
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "title": _("Add prospect") if is_prospect else _("Add customer"),
            "cancel_url": reverse(
                "customers:prospects" if kind == CustomerKind.PROSPECT else "customers:list"
            ),
            "duplicates": _duplicates(form),
            "creating": True,
        },
    )


@require("customers.change")
def customer_edit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    parts = _form_parts(request)
    form = CustomerForm(
        request.POST if request.method == "POST" else None,
        instance=customer,
        organization=request.organization,
        parts=parts,
    )
    return _customer_update_page(
        request,
        customer,
        form,
        saved=_("Changes to “%(name)s” saved."),
        title=_("Edit %(name)s"),
        payment_hidden="payment" not in parts,
    )


@require("customers.payment")
def customer_payment_edit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    if customer.is_prospect:
        messages.info(request, _("A prospect gets its payment data after the conversion into a customer."))
        return redirect(detail_url(customer))
    form = payment_form(
        request.POST if request.method == "POST" else None,
        instance=customer,
        organization=request.organization,
    )
    return _customer_update_page(
        request,
        customer,
        form,
        saved=_("Payment data of “%(name)s” saved."),
        title=_("Payment data of %(name)s"),
        tab="payment",
    )


def _customer_update_page(
    request, customer: Customer, form, *, saved: str, title: str, tab: str | None = None, **context
):
    """Save the edited customer (a reason confirms a possible duplicate) and go back to the
    page's tab, or show the form again. `saved` and `title` take `%(name)s`."""
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("duplicate_reason", "")
        with refusal_on(form):
            customer = services.customer_update(
                customer=customer, user=request.user, data=data, duplicate_reason=reason
            )
            messages.success(request, saved % {"name": customer.name})
            _warn_gaps(request, customer)
            return redirect(detail_url(customer, tab))
    customer.refresh_from_db()  # the form modified the instance; show the stored header
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "title": title % {"name": customer.name},
            "cancel_url": detail_url(customer, tab),
            "duplicates": _duplicates(form),
            **context,
        },
    )


@require("view")
def customer_detail(request, pk: int):
    customer = get_object_or_404(Customer.objects.select_related("owner", "organization"), pk=pk)
    tab = request.GET.get("tab")
    contacts = list(
        customer.contacts.select_related("function").order_by("-is_active", "last_name", "first_name")
    )
    actions = list(
        customer.actions.select_related("assignee").order_by(
            F("done_at").asc(nulls_first=True), "due_on", "id"
        )
    )
    notes = list(customer.notes.select_related("author"))
    context = {
        "customer": customer,
        "active_tab": tab if tab in DETAIL_TABS else "master",
        "contacts": contacts,
        "notes": notes,
        "delivery_sites": list(customer.delivery_sites.all()),
        "actions": actions,
        "open_action_count": sum(1 for a in actions if not a.is_done),
        "next_action": next((a for a in actions if not a.is_done), None),
        "active_contact_count": sum(1 for c in contacts if c.is_active),
        "history": selectors.customer_history(customer=customer),
        "warnings": selectors.customer_warnings(customer=customer),
        "recipients": selectors.invoice_recipient_emails(customer=customer),
        "note_form": NoteForm(),
        "action_form": ActionForm(organization=request.organization),
        "is_admin": request.role == Role.ADMIN,
        # The folders and documents tabs, filled by those apps.
        "panels": page_panels("customer.detail", request, customer),
        # What other apps say about each contact (the customer portal's status).
        "contact_panels": page_panels(CONTACTS_PAGE, request, customer),
    }
    return render(request, "customers/detail.html", context)


@require("customers.change")
@require_POST
def customer_convert(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    if not customer.is_prospect:
        messages.info(request, _("“%(name)s” already is a customer.") % {"name": customer.name})
        return redirect(detail_url(customer))
    customer = services.prospect_convert(customer=customer, user=request.user)
    messages.success(
        request,
        _("Prospect %(name)s was converted into customer %(number)s.")
        % {"name": customer.name, "number": customer.number},
    )
    return redirect(detail_url(customer))


# --- Delivery sites --------------------------------------------------------------------


@require("customers.change")
def delivery_site_add(request, pk: int):
    return _delivery_site_form(request, get_object_or_404(Customer, pk=pk))


@require("customers.change")
def delivery_site_edit(request, pk: int, site_pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    return _delivery_site_form(
        request, customer, get_object_or_404(DeliverySite, pk=site_pk, customer=customer)
    )


def _delivery_site_form(request, customer: Customer, site: DeliverySite | None = None):
    """Add a delivery site (the first one pre-filled with the customer's own address) or
    edit one."""
    data = request.POST if request.method == "POST" else None
    if site is None:
        initial = {} if customer.delivery_sites.exists() else _site_from_customer(customer)
        form = DeliverySiteForm(data, initial=initial)
    else:
        form = DeliverySiteForm(data, instance=site)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            if site is None:
                saved = services.delivery_site_create(
                    customer=customer, user=request.user, data=form.cleaned_data
                )
                message = _("Delivery address “%(site)s” added.")
            else:
                saved = services.delivery_site_update(site=site, user=request.user, data=form.cleaned_data)
                message = _("Delivery address “%(site)s” saved.")
            messages.success(request, message % {"site": saved})
            return redirect(detail_url(customer) + "#delivery-sites")
    if site is not None:
        site.refresh_from_db()  # the form's failed validation must not rename the title
    return simple_form_page(
        request,
        form,
        customer=customer,
        title=_("Add delivery address") if site is None else _("Edit delivery address"),
        cancel_url=detail_url(customer),
    )


def _site_from_customer(customer: Customer) -> dict[str, str]:
    """The first site usually is the customer's own address: offer it."""
    return {
        "name": customer.name,
        "street": customer.street,
        "postal_code": customer.postal_code,
        "city": customer.city,
        "country": customer.country,
    }


@require("customers.change")
@require_POST
def delivery_site_default(request, pk: int, site_pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    site = get_object_or_404(DeliverySite, pk=site_pk, customer=customer)
    services.delivery_site_set_default(site=site, user=request.user)
    messages.success(request, _("“%(site)s” is now the default delivery address.") % {"site": site})
    return redirect(detail_url(customer) + "#delivery-sites")
