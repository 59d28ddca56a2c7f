"""Customer, prospect, contact, note and action pages.

Thin views: permission, form, one service call, a message naming the record, redirect.
Objects are fetched through scoped managers, so another organization's rows are 404.

Small actions (an action done or reopened, a contact switched on or off) and the list
filters answer htmx with the fragment that changed; the plain POST + redirect (or the
whole page) stays the answer without JavaScript.
"""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import can, require
from organizations.forms import add_service_errors
from organizations.months import first_of_month_after
from organizations.panels import page_panels
from organizations.roles import Role
from organizations.tables import configure_table
from organizations.validators import format_phone

from . import agenda, selectors, services
from .filters import CustomerFilter
from .forms import (
    ActionCalendarForm,
    ActionForm,
    ContactForm,
    ContactFunctionForm,
    CustomerForm,
    DeliverySiteForm,
    NoteForm,
    payment_form,
)
from .models import Action, Contact, ContactFunction, Customer, CustomerKind, DeliverySite, Note
from .tables import ActionTable, CustomerTable, ProspectTable

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


def _detail_url(customer: Customer, tab: str | None = None) -> str:
    url = reverse("customers:detail", args=[customer.pk])
    return f"{url}?tab={tab}" if tab else url


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


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


@require("customers.change")
def customer_create(request, kind: str = CustomerKind.CUSTOMER):
    parts = (
        ("master", "commercial", "payment") if can(request, "customers.payment") else ("master", "commercial")
    )
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
        try:
            customer = services.customer_create(
                organization=request.organization,
                user=request.user,
                kind=chosen_kind,
                data=data,
                duplicate_reason=reason,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if customer.is_prospect:
                text = _("Prospect “%(name)s” created.")
            else:
                text = _("Customer “%(name)s” (%(number)s) created.")
            messages.success(request, text % {"name": customer.name, "number": customer.number})
            _warn_gaps(request, customer)
            return redirect(_detail_url(customer))
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
    parts = (
        ("master", "commercial", "payment") if can(request, "customers.payment") else ("master", "commercial")
    )
    form = CustomerForm(
        request.POST if request.method == "POST" else None,
        instance=customer,
        organization=request.organization,
        parts=parts,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("duplicate_reason", "")
        try:
            customer = services.customer_update(
                customer=customer, user=request.user, data=data, duplicate_reason=reason
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": customer.name})
            _warn_gaps(request, customer)
            return redirect(_detail_url(customer))
    customer.refresh_from_db()  # the form modified the instance; show the stored header
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Edit %(name)s") % {"name": customer.name},
            "cancel_url": _detail_url(customer),
            "payment_hidden": "payment" not in parts,
            "duplicates": _duplicates(form),
        },
    )


@require("customers.payment")
def customer_payment_edit(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    if customer.is_prospect:
        messages.info(request, _("A prospect gets its payment data after the conversion into a customer."))
        return redirect(_detail_url(customer))
    form = payment_form(
        request.POST if request.method == "POST" else None,
        instance=customer,
        organization=request.organization,
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("duplicate_reason", "")
        try:
            customer = services.customer_update(
                customer=customer, user=request.user, data=data, duplicate_reason=reason
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Payment data of “%(name)s” saved.") % {"name": customer.name})
            _warn_gaps(request, customer)
            return redirect(_detail_url(customer, "payment"))
    customer.refresh_from_db()
    return render(
        request,
        "customers/customer_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Payment data of %(name)s") % {"name": customer.name},
            "cancel_url": _detail_url(customer, "payment"),
            "duplicates": _duplicates(form),
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
    }
    return render(request, "customers/detail.html", context)


@require("customers.change")
@require_POST
def customer_convert(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    if not customer.is_prospect:
        messages.info(request, _("“%(name)s” already is a customer.") % {"name": customer.name})
        return redirect(_detail_url(customer))
    customer = services.prospect_convert(customer=customer, user=request.user)
    messages.success(
        request,
        _("Prospect %(name)s was converted into customer %(number)s.")
        % {"name": customer.name, "number": customer.number},
    )
    return redirect(_detail_url(customer))


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
        try:
            if site is None:
                saved = services.delivery_site_create(
                    customer=customer, user=request.user, data=form.cleaned_data
                )
                message = _("Delivery address “%(site)s” added.")
            else:
                saved = services.delivery_site_update(site=site, user=request.user, data=form.cleaned_data)
                message = _("Delivery address “%(site)s” saved.")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, message % {"site": saved})
            return redirect(_detail_url(customer) + "#delivery-sites")
    if site is not None:
        site.refresh_from_db()  # the form's failed validation must not rename the title
    return render(
        request,
        "customers/simple_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Add delivery address") if site is None else _("Edit delivery address"),
            "cancel_url": _detail_url(customer),
        },
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
    return redirect(_detail_url(customer) + "#delivery-sites")


# --- Contacts --------------------------------------------------------------------------


@require("customers.change")
def contact_add(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        organization=request.organization,
        instance=Contact(customer=customer),
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(customer=customer, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Contact %(contact)s added to %(customer)s.")
                % {"contact": contact, "customer": customer.name},
            )
            return redirect(_detail_url(customer, "contacts"))
    return render(
        request,
        "customers/simple_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Add contact"),
            "cancel_url": _detail_url(customer, "contacts"),
        },
    )


@require("customers.change")
def contact_edit(request, pk: int, contact_pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        organization=request.organization,
        instance=contact,
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_update(contact=contact, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact %(contact)s saved.") % {"contact": contact})
            return redirect(_detail_url(customer, "contacts"))
    contact.refresh_from_db()
    return render(
        request,
        "customers/simple_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Edit contact %(contact)s") % {"contact": contact},
            "cancel_url": _detail_url(customer, "contacts"),
        },
    )


@require("customers.change")
@require_POST
def contact_toggle(request, pk: int, contact_pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer)
    try:
        contact = services.contact_set_active(
            contact=contact, user=request.user, active=not contact.is_active
        )
    except ValidationError as exc:
        # A stored value that today's rules refuse (e.g. an imported e-mail address) is
        # named, so it can be corrected in the contact's form; nothing was changed.
        messages.error(
            request,
            _("Contact %(contact)s was not changed: %(reason)s")
            % {"contact": contact, "reason": " ".join(exc.messages)},
        )
    else:
        if contact.is_active:
            messages.success(request, _("Contact %(contact)s is active again.") % {"contact": contact})
        else:
            messages.success(request, _("Contact %(contact)s deactivated.") % {"contact": contact})
    if request.htmx:
        context = {"customer": customer, "contact": contact, **_customer_summary(customer)}
        return render(request, "customers/_contact_update.html", context)
    return redirect(_detail_url(customer, "contacts"))


def _customer_summary(customer: Customer) -> dict:
    """What the customer page shows about actions and contacts outside their own tabs
    (the tab's badge, "at a glance"), refreshed beside a row that htmx swapped."""
    open_actions = customer.actions.filter(done_at__isnull=True).order_by("due_on", "id")
    return {
        "open_action_count": open_actions.count(),
        "next_action": open_actions.first(),
        "active_contact_count": customer.contacts.filter(is_active=True).count(),
    }


# --- Notes -----------------------------------------------------------------------------


@require("notes.change")
def note_add(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = NoteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.note_create(customer=customer, user=request.user, text=form.cleaned_data["text"])
        messages.success(request, _("Note added to %(customer)s.") % {"customer": customer.name})
        return redirect(_detail_url(customer))
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "customer": customer, "title": _("Add note"), "cancel_url": _detail_url(customer)},
    )


@require("notes.change")
@require_POST
def note_delete(request, pk: int, note_pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    note = get_object_or_404(Note, pk=note_pk, customer=customer)
    # Everyone deletes their own notes; administrators may also clean up others'.
    if note.author_id != request.user.id and request.role != Role.ADMIN:
        raise PermissionDenied
    services.note_delete(note=note, user=request.user)
    messages.success(request, _("Note on %(customer)s deleted.") % {"customer": customer.name})
    return redirect(
        _detail_url(customer, request.POST.get("tab") if request.POST.get("tab") in DETAIL_TABS else None)
    )


# --- Actions ---------------------------------------------------------------------------


@require("notes.change")
def action_add(request, pk: int):
    customer = get_object_or_404(Customer, pk=pk)
    form = ActionForm(request.POST if request.method == "POST" else None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            action = services.action_create(
                customer=customer,
                user=request.user,
                due_on=data["due_on"],
                assignee=data["assignee"],
                description=data["description"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Action for %(customer)s due on %(date)s added.")
                % {"customer": customer.name, "date": _date(action.due_on)},
            )
            return redirect(_detail_url(customer, "actions"))
    return render(
        request,
        "customers/simple_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("Add action"),
            "cancel_url": _detail_url(customer, "actions"),
        },
    )


def _date(day: dt.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


@require("notes.change")
def action_edit(request, pk: int):
    action = get_object_or_404(Action.objects.select_related("customer"), pk=pk)
    form = ActionForm(
        request.POST if request.method == "POST" else None, organization=request.organization, instance=action
    )
    fallback = _detail_url(action.customer, "actions")
    if request.method == "POST" and form.is_valid():
        try:
            action = services.action_update(action=action, user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Action for %(customer)s saved.") % {"customer": action.customer.name}
            )
            return redirect(_next_url(request, fallback))
    action.refresh_from_db()
    return render(
        request,
        "customers/simple_form.html",
        {
            "form": form,
            "customer": action.customer,
            "title": _("Edit action"),
            "cancel_url": _next_url(request, fallback),
            "next": request.GET.get("next") or request.POST.get("next") or "",
        },
    )


@require("notes.change")
@require_POST
def action_done(request, pk: int):
    action = get_object_or_404(Action.objects.select_related("customer"), pk=pk)
    action = services.action_complete(action=action, user=request.user)
    messages.success(
        request,
        _("Action for %(customer)s marked as done.") % {"customer": action.customer.name},
    )
    return _action_changed(request, action)


@require("notes.change")
@require_POST
def action_reopen(request, pk: int):
    action = get_object_or_404(Action.objects.select_related("customer"), pk=pk)
    action = services.action_reopen(action=action, user=request.user)
    messages.success(request, _("Action for %(customer)s reopened.") % {"customer": action.customer.name})
    return _action_changed(request, action)


def _action_changed(request, action: Action):
    """Without JavaScript: back to the page the button was on. With htmx: the action's
    row as the page it came from shows it - the customer page's actions tab, or the
    calendar's list of open actions (which posts row=list and its assignee filter)."""
    if not request.htmx:
        return redirect(_next_url(request, _detail_url(action.customer, "actions")))
    if request.POST.get("row") != "list":
        context = {"action": action, "customer": action.customer, **_customer_summary(action.customer)}
        return render(request, "customers/_action_update.html", context)
    # The done row stays in the list (with "Reopen"), so a slip of the mouse is undone
    # in place; the count in the title follows the list's assignee filter.
    calendar = ActionCalendarForm(
        {"assignee": request.POST.get("assignee", "")}, organization=request.organization
    )
    assignee = calendar.cleaned_data.get("assignee") if calendar.is_valid() else None
    context = {
        "table": ActionTable([action], orderable=False),
        "count": selectors.open_actions(assignee=assignee).count(),
        "assignee": assignee,
        # The row's own links ("next") lead back to the list, not to this POST's address.
        "list_path": _next_url(request, f"{reverse('customers:actions')}?view=list"),
    }
    return render(request, "customers/_open_action_update.html", context)


@require("view")
def action_calendar(request):
    """All customers' actions: month grid, week view or a plain list of open actions."""
    form = ActionCalendarForm(request.GET or None, organization=request.organization)
    params = {}
    if form.is_bound:
        form.is_valid()  # invalid values (unknown assignee, bad view) are simply dropped
        params = form.cleaned_data
    view = params.get("view") or "month"
    assignee = params.get("assignee")
    only_open = bool(params.get("open"))
    today = timezone.localdate()
    context = {
        "form": form,
        "view": view,
        "today": today,
        "assignee": assignee,
        "only_open": only_open,
    }
    if view == "week":
        monday = agenda.parse_week(request.GET.get("week")) or agenda.week_start(today)
        sunday = monday + dt.timedelta(days=6)
        actions = selectors.actions_between(start=monday, end=sunday, assignee=assignee, only_open=only_open)
        context.update(
            {
                "days": agenda.week_days(monday, selectors.actions_by_day(actions), today),
                "monday": monday,
                "sunday": sunday,
                "week_number": monday.isocalendar()[1],
                "prev": agenda.week_key(monday - dt.timedelta(days=7)),
                "next": agenda.week_key(monday + dt.timedelta(days=7)),
                "current": agenda.week_key(today),
                "month_of_view": agenda.month_key(monday),
                "week_of_view": agenda.week_key(monday),
            }
        )
    elif view == "list":
        table = ActionTable(selectors.open_actions(assignee=assignee))
        configure_table(request, table, per_page=50)
        context.update({"table": table, "count": table.paginator.count})
    else:
        view = context["view"] = "month"
        first = agenda.parse_month(request.GET.get("month")) or today.replace(day=1)
        start, end = agenda.month_range(first)
        actions = selectors.actions_between(start=start, end=end, assignee=assignee, only_open=only_open)
        week_of_view = agenda.week_key(today if agenda.month_key(today) == agenda.month_key(first) else first)
        weeks = agenda.month_weeks(first, selectors.actions_by_day(actions), today)
        context.update(
            {
                "weeks": weeks,
                # Phones get the month's actions as a list below the (narrow) grid.
                "agenda_days": [day for week in weeks for day in week if day.in_month and day.items],
                "first": first,
                "prev": agenda.month_key(first_of_month_after(first, -1)),
                "next": agenda.month_key(first_of_month_after(first, 1)),
                "current": agenda.month_key(today),
                "month_of_view": agenda.month_key(first),
                "week_of_view": week_of_view,
            }
        )
    return render(request, "customers/actions.html", context)


# --- Contact functions -----------------------------------------------------------------


@require("view")
def function_list(request):
    functions = ContactFunction.objects.annotate(contact_count=Count("contact")).order_by("name")
    return render(request, "customers/functions.html", {"functions": functions})


@require("config.manage")
def function_add(request):
    form = ContactFunctionForm(
        request.POST if request.method == "POST" else None, organization=request.organization
    )
    if request.method == "POST" and form.is_valid():
        try:
            function = services.contact_function_create(
                organization=request.organization, user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact function “%(name)s” added.") % {"name": function.name})
            return redirect("customers:functions")
    return render(
        request,
        "customers/simple_form.html",
        {"form": form, "title": _("Add contact function"), "cancel_url": reverse("customers:functions")},
    )


@require("config.manage")
def function_edit(request, pk: int):
    function = get_object_or_404(ContactFunction, pk=pk)
    form = ContactFunctionForm(
        request.POST if request.method == "POST" else None,
        organization=request.organization,
        instance=function,
    )
    if request.method == "POST" and form.is_valid():
        try:
            function = services.contact_function_update(
                function=function, user=request.user, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Contact function “%(name)s” saved.") % {"name": function.name})
            return redirect("customers:functions")
    function.refresh_from_db()
    return render(
        request,
        "customers/simple_form.html",
        {
            "form": form,
            "title": _("Edit contact function “%(name)s”") % {"name": function.name},
            "cancel_url": reverse("customers:functions"),
        },
    )


@require("config.manage")
@require_POST
def function_delete(request, pk: int):
    function = get_object_or_404(ContactFunction, pk=pk)
    name = function.name
    services.contact_function_delete(function=function, user=request.user)
    messages.success(request, _("Contact function “%(name)s” deleted.") % {"name": name})
    return redirect("customers:functions")


@require("config.manage")
@require_POST
def function_defaults(request):
    # The button sends "confirm"; a bare POST (a stray request) changes nothing.
    if request.POST.get("confirm") != "1":
        messages.error(request, _("Nothing was created."))
        return redirect("customers:functions")
    services.contact_functions_ensure_defaults(organization=request.organization)
    messages.success(request, _("Default contact functions created."))
    return redirect("customers:functions")
