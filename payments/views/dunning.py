"""Dunning pages: the run (proposal and approval), past runs, letters to print, the
levels, disputes and dunning stops. Thin: parse, call one service, say what happened."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from customers.models import Customer
from documents.models import Document, DocumentKind
from organizations.access import can, require
from organizations.view_kit import refusal_as_message, refusal_on

from .. import dunning_selectors as selectors
from .. import dunning_services as services
from ..dunning_forms import ApproveForm, DisputeForm, DunningLevelForm, DunningStopForm
from ..models import DunningRun, DunningStop, InvoiceDispute


@require("view")
def dunning_run(request):
    """What a run would dun today, per customer; approving makes the letters."""
    today = timezone.localdate()
    return render(
        request,
        "payments/dunning/run.html",
        {
            "proposal": selectors.dunning_proposal(organization=request.organization, today=today),
            "can_manage": can(request, "payments.manage"),
            "to_print": selectors.letters_to_print().count(),
        },
    )


@require("payments.manage")
@require_POST
def dunning_approve(request):
    today = timezone.localdate()
    proposal = selectors.dunning_proposal(organization=request.organization, today=today)
    form = ApproveForm(request.POST, payer_ids=[p.payer.pk for p in proposal.payers])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("payments:dunning")
    result = None
    with refusal_as_message(request):
        result = services.dunning_run_approve(
            organization=request.organization,
            user=request.user,
            payer_ids=form.cleaned_data["payers"],
            today=today,
        )
    if result is None:
        return redirect("payments:dunning")
    for name, why in result.skipped:
        messages.warning(request, _("No letter to %(name)s: %(why)s") % {"name": name, "why": why})
    if result.run is None:
        return redirect("payments:dunning")
    count = len(result.letters)
    messages.success(
        request,
        ngettext("%(count)d dunning letter issued.", "%(count)d dunning letters issued.", count)
        % {"count": count},
    )
    return redirect("payments:dunning_run_detail", pk=result.run.pk)


@require("view")
def dunning_runs(request):
    return render(request, "payments/dunning/runs.html", {"runs": selectors.dunning_runs()[:200]})


@require("view")
def dunning_run_detail(request, pk: int):
    run = get_object_or_404(DunningRun, pk=pk)
    return render(
        request,
        "payments/dunning/run_detail.html",
        {"run": run, "letters": selectors.run_letters(run), "can_manage": can(request, "payments.manage")},
    )


@require("view")
def dunning_print(request):
    """Dunning letters by post are printed from the one list to print, with the invoices."""
    return redirect("documents:outbox_print")


@require("config.manage")
def dunning_levels(request):
    levels = services.dunning_levels_ensure(organization=request.organization)
    forms = [DunningLevelForm(request.POST or None, instance=lv, prefix=f"l{lv.position}") for lv in levels]
    if request.method == "POST" and all(f.is_valid() for f in forms):
        with refusal_on(forms[0]):
            services.dunning_levels_save(
                organization=request.organization,
                user=request.user,
                values={f.instance.position: dict(f.cleaned_data) for f in forms},
            )
            messages.success(request, _("Dunning levels saved."))
            return redirect("payments:dunning_levels")
    return render(request, "payments/dunning/levels.html", {"forms": forms})


def _invoice_page(request, invoice: Document, form: DisputeForm, status: int = 200):
    return render(
        request,
        "payments/dunning/invoice.html",
        {
            "invoice": invoice,
            "dispute": selectors.open_dispute(invoice),
            "form": form,
            "history": selectors.invoice_dunning_history(invoice),
            "past_disputes": invoice.disputes.exclude(resolved_on__isnull=True).order_by("-since"),
            "stop": selectors.active_stop(invoice.payer, today=timezone.localdate()),
            "can_manage": can(request, "payments.manage"),
        },
        status=status,
    )


@require("view")
def invoice_dunning(request, document_pk: int):
    """One invoice's dunning: its dispute (open or resolve) and the letters that named it."""
    invoice = get_object_or_404(Document, pk=document_pk, kind=DocumentKind.INVOICE)
    return _invoice_page(request, invoice, DisputeForm(initial={"since": timezone.localdate()}))


@require("payments.manage")
@require_POST
def dispute_open(request, document_pk: int):
    invoice = get_object_or_404(Document, pk=document_pk, kind=DocumentKind.INVOICE)
    form = DisputeForm(request.POST)
    if form.is_valid():
        with refusal_on(form):
            services.dispute_open(
                organization=request.organization,
                invoice=invoice,
                note=form.cleaned_data["note"],
                since=form.cleaned_data["since"],
                user=request.user,
            )
            messages.success(
                request,
                _("Invoice %(number)s marked as disputed; it is not dunned until resolved.")
                % {"number": invoice.number},
            )
            return redirect("payments:invoice_dunning", document_pk=invoice.pk)
    return _invoice_page(request, invoice, form, status=200)


@require("payments.manage")
@require_POST
def dispute_resolve(request, pk: int):
    dispute = get_object_or_404(InvoiceDispute, pk=pk)
    with refusal_as_message(request):
        services.dispute_resolve(dispute=dispute, on=timezone.localdate(), user=request.user)
        messages.success(
            request, _("Dispute of invoice %(number)s resolved.") % {"number": dispute.invoice.number}
        )
    if request.POST.get("next") == "list":
        return redirect("payments:disputes")
    return redirect("payments:invoice_dunning", document_pk=dispute.invoice_id)


@require("view")
def disputes(request):
    return render(
        request,
        "payments/dunning/disputes.html",
        {"disputes": selectors.disputes()[:500], "can_manage": can(request, "payments.manage")},
    )


def _back_to_customer(request, customer_id: int, default: str):
    """Back to the customer's payment tab when the stop was added or lifted from there."""
    if request.POST.get("back") == "customer":
        return redirect(f"{reverse('customers:detail', args=[customer_id])}?tab=payment")
    return redirect(default)


def _stops_page(request, form: DunningStopForm, status: int = 200):
    today = timezone.localdate()
    return render(
        request,
        "payments/dunning/stops.html",
        {
            "form": form,
            "stops": [(stop, stop.applies_on(today)) for stop in selectors.dunning_stops()[:500]],
            "can_manage": can(request, "payments.manage"),
            # Opened from a customer's page: saving leads back there.
            "back": "customer" if "customer" in request.GET or request.POST.get("back") == "customer" else "",
        },
        status=status,
    )


@require("view")
def dunning_stops(request):
    initial = {"since": timezone.localdate()}
    customer_pk = request.GET.get("customer", "")
    if customer_pk.isdigit():
        initial["customer"] = (
            Customer.objects.filter(pk=int(customer_pk)).values_list("pk", flat=True).first()
        )
    return _stops_page(request, DunningStopForm(organization=request.organization, initial=initial))


@require("payments.manage")
@require_POST
def dunning_stop_add(request):
    form = DunningStopForm(request.POST, organization=request.organization)
    if form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            services.dunning_stop_add(
                organization=request.organization,
                customer=data["customer"],
                note=data["note"],
                since=data["since"],
                until=data["until"],
                user=request.user,
            )
            messages.success(request, _("Dunning stop for %(name)s saved.") % {"name": data["customer"].name})
            return _back_to_customer(request, data["customer"].pk, "payments:dunning_stops")
    return _stops_page(request, form, status=200)


@require("payments.manage")
@require_POST
def dunning_stop_lift(request, pk: int):
    stop = get_object_or_404(DunningStop, pk=pk)
    with refusal_as_message(request):
        services.dunning_stop_lift(stop=stop, on=timezone.localdate(), user=request.user)
        messages.success(request, _("Dunning stop for %(name)s lifted.") % {"name": stop.customer.name})
    return _back_to_customer(request, stop.customer_id, "payments:dunning_stops")
