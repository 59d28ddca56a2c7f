"""Contact pages: a customer's contacts (add, edit, switch on or off) and the
organization's contact functions.

Thin views: permission, form, one service call, a message naming the record, redirect.
Objects are fetched through scoped managers, so another organization's rows are 404.
Switching a contact on or off answers htmx with the row and the customer page's counts.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import require
from organizations.panels import page_panels
from organizations.view_kit import refusal_on

from . import services
from .forms import ContactForm, ContactFunctionForm
from .models import Contact, ContactFunction, Customer
from .views import CONTACTS_PAGE, customer_summary, detail_url, simple_form_page

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
        with refusal_on(form):
            contact = services.contact_create(customer=customer, user=request.user, data=form.cleaned_data)
            messages.success(
                request,
                _("Contact %(contact)s added to %(customer)s.")
                % {"contact": contact, "customer": customer.name},
            )
            return redirect(detail_url(customer, "contacts"))
    return simple_form_page(
        request, form, customer=customer, title=_("Add contact"), cancel_url=detail_url(customer, "contacts")
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
        with refusal_on(form):
            contact = services.contact_update(contact=contact, user=request.user, data=form.cleaned_data)
            messages.success(request, _("Contact %(contact)s saved.") % {"contact": contact})
            return redirect(detail_url(customer, "contacts"))
    contact.refresh_from_db()
    return simple_form_page(
        request,
        form,
        customer=customer,
        title=_("Edit contact %(contact)s") % {"contact": contact},
        cancel_url=detail_url(customer, "contacts"),
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
        context = {
            "customer": customer,
            "contact": contact,
            "contact_panels": page_panels(CONTACTS_PAGE, request, customer),
            **customer_summary(customer),
        }
        return render(request, "customers/_contact_update.html", context)
    return redirect(detail_url(customer, "contacts"))


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
        with refusal_on(form):
            function = services.contact_function_create(
                organization=request.organization, user=request.user, name=form.cleaned_data["name"]
            )
            messages.success(request, _("Contact function “%(name)s” added.") % {"name": function.name})
            return redirect("customers:functions")
    return simple_form_page(
        request, form, title=_("Add contact function"), cancel_url=reverse("customers:functions")
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
        with refusal_on(form):
            function = services.contact_function_update(
                function=function, user=request.user, name=form.cleaned_data["name"]
            )
            messages.success(request, _("Contact function “%(name)s” saved.") % {"name": function.name})
            return redirect("customers:functions")
    function.refresh_from_db()
    return simple_form_page(
        request,
        form,
        title=_("Edit contact function “%(name)s”") % {"name": function.name},
        cancel_url=reverse("customers:functions"),
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
