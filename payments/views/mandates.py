"""SEPA mandates: the list (all, or one customer's), create, amend, revoke, the form to
sign as PDF; and the organization's payment settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import Customer
from organizations.access import require
from organizations.view_kit import refusal_as_message, refusal_on

from .. import mandates
from ..forms import MandateAmendForm, MandateForm, PaymentSettingsForm
from ..mandate_pdf import render_mandate_pdf
from ..models import MandateStatus, SepaMandate


@require("view")
def mandate_list(request):
    qs = SepaMandate.objects.select_related("customer", "folder").order_by(
        "customer__name", "-signed_on", "-id"
    )
    customer = None
    raw = request.GET.get("customer", "")
    if raw:
        if not (raw.isdigit() and len(raw) < 16):
            raise Http404
        customer = get_object_or_404(Customer, pk=int(raw))
        qs = qs.filter(customer=customer)
    status = request.GET.get("status")
    if status in MandateStatus.values:
        qs = qs.filter(status=status)
    q = (request.GET.get("q") or "").strip()[:100]
    if q:
        qs = qs.filter(
            Q(reference__icontains=q) | Q(customer__name__icontains=q) | Q(debtor_name__icontains=q)
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(m, mandates.mandate_refusal(m, today), mandates.mandate_expires_on(m)) for m in page]
    return render(
        request,
        "payments/mandate_list.html",
        {
            "page": page,
            "rows": rows,
            "customer": customer,
            "status": status,
            "statuses": MandateStatus.choices,
            "q": q,
        },
    )


@require("payments.manage")
def mandate_create(request, customer_pk: int):
    customer = get_object_or_404(Customer, pk=customer_pk)
    today = timezone.localdate()
    initial = {
        "reference": mandates.mandate_reference_suggestion(customer),
        "debtor_name": (customer.account_holder or customer.name)[:70],
        "iban": customer.iban,
        "bic": customer.bic,
        "signed_on": today,
    }
    form = MandateForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            mandate = mandates.mandate_create(
                organization=request.organization,
                customer=customer,
                folder=data["folder"],
                reference=data["reference"],
                signed_on=data["signed_on"],
                scheme=data["scheme"],
                debtor_name=data["debtor_name"],
                iban=data["iban"],
                bic=data["bic"],
                prenotification_days=data["prenotification_days"],
                user=request.user,
                today=today,
            )
            messages.success(request, _("Mandate %(reference)s created.") % {"reference": mandate.reference})
            return redirect("payments:mandate_detail", pk=mandate.pk)
    return render(
        request,
        "payments/mandate_form.html",
        {
            "form": form,
            "customer": customer,
            "title": _("New SEPA mandate for %(name)s") % {"name": customer.name},
        },
    )


@require("view")
def mandate_detail(request, pk: int):
    mandate = get_object_or_404(SepaMandate.objects.select_related("customer", "folder"), pk=pk)
    today = timezone.localdate()
    items = mandate.items.select_related("batch", "document").order_by("-id")[:50]
    return render(
        request,
        "payments/mandate_detail.html",
        {
            "mandate": mandate,
            "refusal": mandates.mandate_refusal(mandate, today),
            "expires_on": mandates.mandate_expires_on(mandate),
            "items": items,
        },
    )


@require("payments.manage")
def mandate_amend(request, pk: int):
    mandate = get_object_or_404(SepaMandate.objects.select_related("customer"), pk=pk)
    if mandate.status != MandateStatus.ACTIVE:
        messages.error(request, _("Only an active mandate can be changed."))
        return redirect("payments:mandate_detail", pk=mandate.pk)
    initial = {
        "reference": mandate.reference,
        "debtor_name": mandate.debtor_name,
        "iban": mandate.iban,
        "bic": mandate.bic,
        "prenotification_days": mandate.prenotification_days,
    }
    form = MandateAmendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            mandates.mandate_amend(
                mandate=mandate,
                reference=data["reference"],
                iban=data["iban"],
                bic=data["bic"],
                debtor_name=data["debtor_name"],
                prenotification_days=data["prenotification_days"],
                user=request.user,
                today=timezone.localdate(),
            )
            messages.success(request, _("Mandate %(reference)s changed.") % {"reference": data["reference"]})
            return redirect("payments:mandate_detail", pk=mandate.pk)
    return render(
        request,
        "payments/mandate_form.html",
        {
            "form": form,
            "customer": mandate.customer,
            "mandate": mandate,
            "title": _("Change mandate %(reference)s") % {"reference": mandate.reference},
        },
    )


@require("payments.manage")
@require_POST
def mandate_revoke(request, pk: int):
    mandate = get_object_or_404(SepaMandate, pk=pk)
    with refusal_as_message(request):
        mandates.mandate_revoke(mandate=mandate, user=request.user, today=timezone.localdate())
        messages.success(request, _("Mandate %(reference)s revoked.") % {"reference": mandate.reference})
    return redirect("payments:mandate_detail", pk=mandate.pk)


@require("view")
def mandate_pdf(request, pk: int):
    mandate = get_object_or_404(
        SepaMandate.objects.select_related("customer", "folder", "organization"), pk=pk
    )
    response = HttpResponse(render_mandate_pdf(mandate), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="SEPA-Mandat-{mandate.reference}.pdf"'
    return response


@require("payments.manage")
def payment_settings(request):
    settings = mandates.payment_settings_for(request.organization)
    form = PaymentSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Payment settings saved."))
        return redirect("payments:batches")
    return render(request, "payments/settings.html", {"form": form, "title": _("Direct-debit settings")})
