"""Payments received, recording one, a customer's open items with credit, the open-items
list with ageing and its Excel export, the payment e-mail settings.

Thin: resolve the payer (scoped: another organization's is a 404), check the role, call
one service, say what happened, redirect.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.db.models import Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.selectors import customer_search
from organizations.access import can, require
from organizations.money import ZERO
from organizations.tables import configure_table
from organizations.templatetags.ui import money
from organizations.view_kit import refusal_as_message, refusal_on

from .. import selectors, services
from ..excel import open_items_workbook
from ..filters import OpenItemsFilterForm, PaymentFilter
from ..forms import CreditApplyForm, PaymentForm, PaymentMailSettingsForm, RefundForm, item_field_name
from ..models import OPEN_ENTRY_STATUSES, Payment, StatementEntry
from ..statements import entry_assign
from ..tables import OpenItemsTable, PaymentTable

PAYER_RESULTS = 20


def _today() -> dt.date:
    return timezone.localdate()


def _figures(total: dict) -> list[tuple[str, str, Decimal]]:
    return [(key, label, total[key]) for key, label, *_rest in selectors.AGEING_BUCKETS]


@require("view")
def payment_list(request):
    flt = PaymentFilter(request.GET or None, queryset=selectors.payment_list())
    rows = flt.qs
    table = configure_table(request, PaymentTable(rows))
    return render(
        request,
        "payments/payment_list.html",
        {
            "filter": flt,
            "table": table,
            "total": rows.aggregate(s=Sum("amount"))["s"] or ZERO,
            "any_payments": Payment.objects.exists(),
            "can_manage": can(request, "payments.manage"),
        },
    )


def _prefill(items, amount) -> dict[str, str]:
    """An amount spread over the open items, oldest due first (items come in that order)."""
    initial = {}
    left = amount or ZERO
    for item in items:
        if left <= ZERO:
            break
        if item.open <= ZERO or item.pending_collection:
            continue
        take = min(item.open, left)
        initial[item_field_name(item)] = take
        left -= take
    return initial


def _entry_or_none(request):
    raw = request.GET.get("entry") or request.POST.get("entry") or ""
    if not raw.isdigit() or len(raw) > 12:
        return None
    entry = get_object_or_404(StatementEntry.objects.select_related("statement"), pk=int(raw))
    return entry


def _payer_from(request, entry):
    raw = request.GET.get("payer") or request.POST.get("payer") or ""
    if raw.isdigit() and len(raw) <= 12:
        return get_object_or_404(Customer, pk=int(raw))
    if entry is not None and entry.payer_id:
        return entry.payer
    return None


@require("payments.manage")
def payment_record(request):
    """Record money received: first the payer (search), then amount and what it pays.

    With ``?entry=`` it books a bank-statement entry under review: amount, date and
    reference are the bank's; only the payer and the invoices are chosen here."""
    entry = _entry_or_none(request)
    if entry is not None and (entry.status not in OPEN_ENTRY_STATUSES or entry.amount <= ZERO):
        messages.info(request, _("This entry has been dealt with already."))
        return redirect("payments:statement", pk=entry.statement_id)
    payer = _payer_from(request, entry)
    if payer is None:
        term = request.GET.get("q", "").strip()[:100]
        candidates = []
        if entry is not None and entry.candidates:
            invoices = selectors.receivable_invoices().filter(pk__in=entry.candidates).values("payer_id")
            candidates = list(Customer.objects.filter(pk__in=invoices).order_by("name")[:PAYER_RESULTS])
        if entry is not None and not candidates and entry.counterparty_name:
            # The account holder's name as the bank sent it, when a customer has it.
            candidates = list(
                Customer.objects.filter(name__iexact=entry.counterparty_name.strip())[:PAYER_RESULTS]
            )
        results = (
            list(customer_search(Customer.objects.all(), term).order_by("name")[:PAYER_RESULTS])
            if term
            else []
        )
        return render(
            request,
            "payments/record_payer.html",
            {"entry": entry, "term": term, "results": results, "candidates": candidates},
        )
    items = [i for i in selectors.open_items(today=_today(), payer=payer) if i.open > ZERO]
    if entry is not None:
        fixed = {
            "date": entry.booking_date,
            "amount": entry.amount,
            "channel": "transfer",
            "reference": entry.remittance[:140],
        }
    else:
        fixed = None
    if request.method == "POST":
        data = request.POST.copy()
        form = PaymentForm(data, items=items, fixed_amount=entry is not None, initial=fixed or {})
        if form.is_valid():
            with refusal_on(form):
                if entry is not None:
                    entry_assign(
                        organization=request.organization,
                        entry=entry,
                        payer=payer,
                        allocations=form.allocations(),
                        user=request.user,
                    )
                    messages.success(
                        request,
                        _("%(amount)s from %(payer)s booked from the bank statement.")
                        % {"amount": money(entry.amount), "payer": payer.name},
                    )
                    return redirect("payments:statement", pk=entry.statement_id)
                payment = services.payment_record(
                    organization=request.organization,
                    payer=payer,
                    amount=form.cleaned_data["amount"],
                    date=form.cleaned_data["date"],
                    channel=form.cleaned_data["channel"],
                    user=request.user,
                    allocations=form.allocations(),
                    reference=form.cleaned_data["reference"],
                    note=form.cleaned_data["note"],
                )
                services.payment_confirmation_schedule(payment=payment)
                credit = selectors.customer_credit(payer)
                text = _("Payment of %(amount)s from %(payer)s recorded.") % {
                    "amount": money(payment.amount),
                    "payer": payer.name,
                }
                if credit > ZERO:
                    text += " " + _("%(credit)s stays as the customer's credit.") % {"credit": money(credit)}
                messages.success(request, text)
                return redirect("payments:customer", customer_pk=payer.pk)
    else:
        amount = fixed["amount"] if fixed else _amount_param(request)
        initial = {"date": _today(), "channel": "transfer"} | (fixed or {})
        if amount:
            initial["amount"] = amount
        initial |= _prefill(items, amount)
        form = PaymentForm(initial=initial, items=items, fixed_amount=entry is not None)
    return render(
        request,
        "payments/record.html",
        {
            "form": form,
            "payer": payer,
            "entry": entry,
            "credit": selectors.customer_credit(payer),
            "open_total": sum((i.open for i in items), ZERO),
        },
    )


def _amount_param(request):
    raw = (request.GET.get("amount") or "").strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if ZERO < value < Decimal("1000000000") else None


@require("view")
def customer_items(request, customer_pk: int):
    """One customer's account: open items with ageing, credit, payments; apply or refund credit."""
    payer = get_object_or_404(Customer, pk=customer_pk)
    today = _today()
    items = selectors.open_items(today=today, payer=payer)
    credit = selectors.customer_credit(payer)
    can_manage = can(request, "payments.manage")
    summary, total = selectors.ageing_by_payer(items)
    return render(
        request,
        "payments/customer.html",
        {
            "payer": payer,
            "items": items,
            "credit": credit,
            "balance": total["total"] - credit,
            "total": total,
            "figures": _figures(total),
            "payments": list(selectors.payment_list().filter(payer=payer)[:50]),
            "can_manage": can_manage,
            "apply_form": CreditApplyForm(items=items, initial={"date": today})
            if can_manage and credit > 0
            else None,
            "refund_form": RefundForm(initial={"date": today, "amount": credit})
            if can_manage and credit > 0
            else None,
        },
    )


@require_POST
@require("payments.manage")
def credit_apply(request, customer_pk: int):
    payer = get_object_or_404(Customer, pk=customer_pk)
    items = selectors.open_items(today=_today(), payer=payer)
    form = CreditApplyForm(request.POST, items=items)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("payments:customer", customer_pk=payer.pk)
    with refusal_as_message(request):
        services.credit_apply(
            organization=request.organization,
            payer=payer,
            receivable=form.receivable(),
            amount=form.cleaned_data["amount"],
            date=form.cleaned_data["date"],
            user=request.user,
        )
        messages.success(
            request,
            _("%(amount)s of the credit applied to %(item)s.")
            % {
                "amount": money(form.cleaned_data["amount"]),
                "item": form.items[form.cleaned_data["item"]].number,
            },
        )
    return redirect("payments:customer", customer_pk=payer.pk)


@require_POST
@require("payments.manage")
def credit_refund(request, customer_pk: int):
    payer = get_object_or_404(Customer, pk=customer_pk)
    form = RefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("payments:customer", customer_pk=payer.pk)
    with refusal_as_message(request):
        services.credit_refund(
            organization=request.organization,
            payer=payer,
            amount=form.cleaned_data["amount"],
            date=form.cleaned_data["date"],
            user=request.user,
            reference=form.cleaned_data["reference"],
        )
        messages.success(
            request,
            _("Refund of %(amount)s to %(payer)s recorded.")
            % {"amount": money(form.cleaned_data["amount"]), "payer": payer.name},
        )
    return redirect("payments:customer", customer_pk=payer.pk)


def _open_items_filtered(request):
    form = OpenItemsFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    as_of = data.get("as_of") or _today()
    invoices = selectors.receivable_invoices()
    term = (data.get("customer") or "").strip()
    payers = None
    if term or data.get("payment_method"):
        payers = Customer.objects.all()
        if term:
            payers = payers.filter(Q(name__icontains=term) | Q(number__icontains=term))
        if data.get("payment_method"):
            payers = payers.filter(payment_method=data["payment_method"])
        invoices = invoices.filter(payer__in=payers)
    items = selectors.open_items(today=as_of, invoices=invoices, as_of=as_of)
    if payers is not None:
        allowed = set(payers.values_list("pk", flat=True))
        items = [i for i in items if i.payer_id in allowed]
    items = [i for i in items if i.date <= as_of]
    bucket = data.get("bucket")
    if bucket == "overdue":
        items = [i for i in items if i.bucket != "not_due"]
    elif bucket:
        items = [i for i in items if i.bucket == bucket]
    return form, items, as_of


@require("view")
def open_items(request):
    form, items, as_of = _open_items_filtered(request)
    summary, total = selectors.ageing_by_payer(items)
    table = configure_table(request, OpenItemsTable(summary))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    return render(
        request,
        "payments/open_items.html",
        {
            "form": form,
            "table": table,
            "total": total,
            "figures": _figures(total),
            "as_of": as_of,
            "export_url": reverse("payments:open_items_xlsx") + ("?" + query.urlencode() if query else ""),
        },
    )


@require("view")
def open_items_xlsx(request):
    _form, items, as_of = _open_items_filtered(request)
    summary, _total = selectors.ageing_by_payer(items)
    data = open_items_workbook(items, summary, as_of=as_of)
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="open-items-{as_of:%Y-%m-%d}.xlsx"'
    return response


@require("view")
def mail_settings(request):
    current = services.payment_mail_settings(request.organization)
    form = PaymentMailSettingsForm(instance=current)
    return render(
        request,
        "payments/mail_settings.html",
        {"form": form, "can_manage": can(request, "payments.manage"), "placeholders": services.PLACEHOLDERS},
    )


@require_POST
@require("payments.manage")
def mail_settings_save(request):
    current = services.payment_mail_settings(request.organization)
    form = PaymentMailSettingsForm(request.POST, instance=current)
    if form.is_valid():
        with refusal_on(form):
            services.payment_mail_settings_update(
                organization=request.organization,
                user=request.user,
                enabled=form.cleaned_data["enabled"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
            )
            messages.success(request, _("Payment e-mail settings saved."))
            return redirect("payments:mail_settings")
    return render(
        request,
        "payments/mail_settings.html",
        {"form": form, "can_manage": True, "placeholders": services.PLACEHOLDERS},
        status=200,
    )
