"""The customer portal's ticket pages. Every view goes through `portal_view` (the portal's
one door) and reads tickets only of `request.portal_customer`: another customer's ticket,
of this organization or another, is a 404. Internal notes and their files never appear."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.view_kit import refusal_as_message, refusal_on
from portal.access import portal_view

from . import selectors, services
from .badges import status_badge
from .forms import PortalTicketForm, ReplyForm
from .models import Ticket, TicketAttachment, TicketChannel, TicketStatus
from .views import attachment_response


def _ticket(request, pk: int) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related("customer", "contact", "folder", "equipment"),
        pk=pk,
        customer=request.portal_customer,
    )


@portal_view
def ticket_list(request):
    tickets = list(
        selectors.tickets_of_customer(request.portal_customer).order_by("-updated_at", "-id")[:200]
    )
    for ticket in tickets:
        ticket.badge = status_badge(ticket)
    return render(request, "tickets/portal/list.html", {"tickets": tickets})


@portal_view
def ticket_new(request):
    form = PortalTicketForm(request.POST or None, request.FILES or None, customer=request.portal_customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            ticket = services.ticket_open(
                organization=request.organization,
                customer=request.portal_customer,
                contact=request.portal_contact,
                subject=data["subject"],
                description=data["description"],
                folder=data["folder"],
                equipment=data["equipment"],
                channel=TicketChannel.PORTAL,
                files=data["attachments"],
            )
            messages.success(
                request,
                _("Your ticket %(number)s has been received. We will get back to you.")
                % {"number": ticket.number},
            )
            return redirect("portal:ticket", ticket.pk)
    return render(request, "tickets/portal/new.html", {"form": form})


def _detail(request, ticket: Ticket, *, reply_form=None, status=200):
    return render(
        request,
        "tickets/portal/detail.html",
        {
            "ticket": ticket,
            "badge": status_badge(ticket),
            "thread": selectors.public_messages(ticket),
            "ticket_files": ticket.attachments.filter(message__isnull=True),
            "reply_form": reply_form or ReplyForm(),
            "closed": ticket.status == TicketStatus.CLOSED,
        },
        status=status,
    )


@portal_view
def ticket_detail(request, pk: int):
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _detail(request, _ticket(request, pk))


@require_POST
@portal_view
def ticket_reply(request, pk: int):
    ticket = _ticket(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        with refusal_on(form):
            services.ticket_reply(
                ticket=ticket,
                body=form.cleaned_data["body"],
                contact=request.portal_contact,
                files=form.cleaned_data["attachments"],
            )
            messages.success(request, _("Your reply has been sent."))
            return redirect(reverse("portal:ticket", args=[ticket.pk]) + "#thread")
    return _detail(request, ticket, reply_form=form, status=400)


@require_POST
@portal_view
def ticket_close(request, pk: int):
    ticket = _ticket(request, pk)
    with refusal_as_message(request):
        services.ticket_close(ticket=ticket, contact=request.portal_contact)
        messages.success(request, _("Ticket %(number)s is closed. Thank you!") % {"number": ticket.number})
    return redirect("portal:ticket", ticket.pk)


@portal_view
def attachment_download(request, pk: int, attachment_pk: int):
    ticket = _ticket(request, pk)
    attachment = get_object_or_404(
        TicketAttachment.objects.exclude(message__is_internal=True), pk=attachment_pk, ticket=ticket
    )
    return attachment_response(attachment)
