"""The back office's support queue and ticket pages. Thin: resolve, validate, call a
service, say what happened, redirect. Tickets of another organization do not exist here
(scoped managers: 404)."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import can, require
from organizations.history import readable_history
from organizations.tables import configure_table
from organizations.view_kit import refusal_as_message, refusal_on

from . import engine, selectors, services
from .badges import due_cell, priority_badge, status_badge
from .filters import ACTIVE, TicketFilter
from .forms import AssignForm, CustomerPickForm, PriorityForm, StaffReplyForm, StaffTicketForm, StatusForm
from .models import Ticket, TicketAttachment
from .tables import TicketTable


@require("view")
def ticket_list(request):
    data = request.GET.copy()
    # The queue shows the tickets that need work unless the filter asks otherwise
    # ("status=" in the URL shows all).
    data.setdefault("status", ACTIVE)
    filterset = TicketFilter(
        data, queryset=selectors.ticket_queue(), organization=request.organization, user=request.user
    )
    table = TicketTable(filterset.qs)
    configure_table(request, table)
    filtered = any(
        value != ({"status": ACTIVE}.get(key, ""))
        for key, value in request.GET.items()
        if key in filterset.filters
    )
    return render(
        request,
        "tickets/list.html",
        {
            "filter": filterset,
            "table": table,
            "count": table.paginator.count,
            "filtered": filtered,
            "attention": selectors.tickets_needing_attention(limit=0),
        },
    )


@require("tickets.change")
def ticket_create(request):
    """Staff open a ticket for a customer (a phone call, an e-mail): first the customer,
    then the ticket with the customer's contacts, folders and equipment to choose from."""
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    customer = None
    if customer_id:
        pick = CustomerPickForm({"customer": customer_id})
        if pick.is_valid():
            customer = pick.cleaned_data["customer"]
    if customer is None:
        pick = CustomerPickForm(request.GET or None)
        return render(request, "tickets/create.html", {"pick": pick})
    form = StaffTicketForm(
        request.POST or None,
        request.FILES or None,
        customer=customer,
        organization=request.organization,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            ticket = services.ticket_open(
                organization=request.organization,
                customer=customer,
                contact=data["contact"],
                subject=data["subject"],
                description=data["description"],
                folder=data["folder"],
                equipment=data["equipment"],
                priority=data["priority"],
                channel=data["channel"],
                assignee=data["assignee"],
                files=data["attachments"],
                user=request.user,
            )
            messages.success(
                request,
                _("Ticket %(number)s opened for %(customer)s.")
                % {"number": ticket.number, "customer": customer.name},
            )
            return redirect("tickets:detail", ticket.pk)
    guarantee = selectors.guarantee_for(customer=customer)
    return render(
        request, "tickets/create.html", {"form": form, "customer": customer, "guarantee": guarantee}
    )


def _detail(request, ticket: Ticket, *, reply_form=None, status=200):
    today = timezone.localdate()
    equipment = list(selectors.customer_equipment(ticket.customer)[:200])
    for piece in equipment:
        piece.warranty = piece.warranty_status(today)
    now = timezone.now()
    context = {
        "ticket": ticket,
        "thread": selectors.all_messages(ticket),
        "ticket_files": ticket.attachments.filter(message__isnull=True),
        "reply_form": reply_form or StaffReplyForm(ticket=ticket),
        "assign_form": AssignForm(
            initial={"assignee": ticket.assignee_id}, organization=request.organization
        ),
        "status_form": StatusForm(initial={"status": ticket.status}),
        "priority_form": PriorityForm(initial={"priority": ticket.priority}),
        "folders": selectors.customer_folders(ticket.customer),
        "equipment": equipment,
        "status_badge": status_badge(ticket),
        "priority_badge": priority_badge(ticket),
        "response_cell": due_cell(ticket.response_due_at, ticket.response_state(now)),
        "resolution_cell": due_cell(ticket.resolution_due_at, ticket.resolution_state(now)),
        "alert": ticket.alert_state(now),
        "engine": engine,
        "history": readable_history(ticket, limit=50),
        "can_change": can(request, "tickets.change"),
    }
    return render(request, "tickets/detail.html", context, status=status)


def _ticket(pk: int) -> Ticket:
    return get_object_or_404(
        Ticket.objects.select_related(
            "customer", "contact", "folder", "equipment__line__folder", "assignee", "created_by"
        ),
        pk=pk,
    )


@require("view")
def ticket_detail(request, pk: int):
    return _detail(request, _ticket(pk))


@require("tickets.change")
@require_POST
def ticket_reply(request, pk: int):
    ticket = _ticket(pk)
    form = StaffReplyForm(request.POST, request.FILES, ticket=ticket)
    if form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            services.ticket_reply(
                ticket=ticket,
                body=data["body"],
                user=request.user,
                internal=data["internal"],
                status=data["status"] or None,
                files=data["attachments"],
            )
            if data["internal"]:
                messages.success(request, _("Internal note added to %(number)s.") % {"number": ticket.number})
            elif ticket.contact and ticket.contact.email:
                messages.success(
                    request,
                    _("Reply to %(number)s sent; %(email)s gets an e-mail.")
                    % {"number": ticket.number, "email": ticket.contact.email},
                )
            else:
                messages.warning(
                    request,
                    _(
                        "Reply to %(number)s saved; the ticket has no contact with an e-mail address, so nobody was notified."
                    )
                    % {"number": ticket.number},
                )
            return redirect(reverse("tickets:detail", args=[ticket.pk]) + "#thread")
    messages.error(request, _("The reply was not saved; see below."))
    return _detail(request, ticket, reply_form=form, status=400)


@require("tickets.change")
@require_POST
def ticket_assign(request, pk: int):
    ticket = _ticket(pk)
    form = AssignForm(request.POST, organization=request.organization)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("tickets:detail", ticket.pk)
    assignee = form.cleaned_data["assignee"]
    with refusal_as_message(request):
        services.ticket_assign(ticket=ticket, assignee=assignee, user=request.user)
        if assignee is None:
            messages.success(request, _("%(number)s is assigned to nobody now.") % {"number": ticket.number})
        else:
            messages.success(
                request,
                _("%(number)s assigned to %(name)s.")
                % {"number": ticket.number, "name": assignee.get_full_name() or assignee.username},
            )
    return redirect("tickets:detail", ticket.pk)


def _set_choice(request, pk: int, form_class, field: str, *, invalid: str, done: str, service):
    """A POSTed choice (status, priority) of one ticket through its service."""
    ticket = _ticket(pk)
    form = form_class(request.POST)
    if not form.is_valid():
        messages.error(request, invalid)
        return redirect("tickets:detail", ticket.pk)
    with refusal_as_message(request):
        service(ticket=ticket, **{field: form.cleaned_data[field]}, user=request.user)
        shown = getattr(ticket, f"get_{field}_display")()
        messages.success(request, done % {"number": ticket.number, field: shown})
    return redirect("tickets:detail", ticket.pk)


@require("tickets.change")
@require_POST
def ticket_status(request, pk: int):
    return _set_choice(
        request,
        pk,
        StatusForm,
        "status",
        invalid=_("Please choose a valid status."),
        done=_("%(number)s is now “%(status)s”."),
        service=services.ticket_status_set,
    )


@require("tickets.change")
@require_POST
def ticket_priority(request, pk: int):
    return _set_choice(
        request,
        pk,
        PriorityForm,
        "priority",
        invalid=_("Please choose a valid priority."),
        done=_("%(number)s has priority “%(priority)s” now."),
        service=services.ticket_priority_set,
    )


@require("view")
def attachment_download(request, pk: int, attachment_pk: int):
    ticket = _ticket(pk)
    attachment = get_object_or_404(TicketAttachment, pk=attachment_pk, ticket=ticket)
    return attachment_response(attachment)


def attachment_response(attachment: TicketAttachment) -> FileResponse:
    """The stored file under its original name and the type sniffed at upload; never
    shown inline, so a browser does not render what a customer sent."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
