"""Billing runs: list, preview (dry run), start, detail with live progress."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations.access import require
from organizations.money import line_net
from organizations.months import first_of_month_after
from organizations.system_texts import render_text
from organizations.tables import configure_table
from organizations.view_kit import refusal_as_message

from . import planning, selectors, services
from . import texts as billing_texts
from .filters import BillingRunFilter
from .forms import PeriodForm, default_period, month_value
from .models import BillingRun, SkipReason
from .tables import BillingRunItemTable, BillingRunSkipTable, BillingRunTable

PREVIEW_ACCOUNTS_PER_PAGE = 25


@require("view")
def run_list(request):
    flt = BillingRunFilter(request.GET or None, queryset=selectors.run_list())
    table = configure_table(request, BillingRunTable(flt.qs))
    return render(
        request,
        "billing/run_list.html",
        {
            "filter": flt,
            "table": table,
            "total": selectors.run_list().count(),
            "active": selectors.active_run(request.organization),
            "period_value": month_value(default_period()),
        },
    )


PREVIEW_DETAIL_ID = "preview-detail"


@require("billing.run")
def preview(request):
    """Pick a month; see per payer the invoice a run would make, line by line, and the
    folders it would skip, with the reason. Writes nothing."""
    form = PeriodForm(request.GET or None, initial={"period": month_value(default_period())})
    context = {"form": form, "active": selectors.active_run(request.organization)}
    if form.is_valid():
        period = form.cleaned_data["period"]
        latest = first_of_month_after(services.month_of(timezone.localdate()), 1)
        accounts = planning.account_ids(organization=request.organization, period=period)
        page = Paginator(accounts, PREVIEW_ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
        # Paging swaps the detail only (htmx); the month's totals above it stay as planned
        # on the page's first load, so a page costs its own accounts, not the whole month.
        paging = request.headers.get("HX-Target") == PREVIEW_DETAIL_ID
        result = services.billing_preview(
            organization=request.organization,
            period=period,
            customer_ids=list(page.object_list),
            month=not paging,
        )
        context.update(
            {
                "period": period,
                "period_value": month_value(period),
                "preview": result,
                "invoices": [_invoice_rows(invoice) for invoice in result.invoices],
                "page": page,
                "totals": result.totals,
                "latest": latest,
                "too_early": period > latest,
            }
        )
    return render(request, "billing/preview.html", context)


def _invoice_rows(invoice: planning.PlannedInvoice) -> dict:
    """A planned invoice as the preview shows it: its lines with their nets, and totals."""
    rows = []
    language = invoice.payer.language
    for spec in invoice.specs:
        net = line_net(spec.quantity, spec.unit_price, spec.discount_percent)
        # The period has a column of its own here; the invoice prints it in the text.
        period = (
            billing_texts.period(language, spec.service_start, spec.service_end) if spec.service_start else ""
        )
        detail = "\n".join(part for part in spec.detail.split("\n") if part != period)
        rows.append({"spec": spec, "net": net, "detail": detail})
    return {"invoice": invoice, "rows": rows, "totals": invoice.totals()}


@require("billing.run")
@require_POST
def start(request):
    form = PeriodForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("period", [_("Choose the month to bill.")])))
        return redirect("billing:preview")
    period = form.cleaned_data["period"]
    month = date_format(period, "F Y")
    try:
        run = services.billing_run_start(organization=request.organization, period=period, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{reverse('billing:preview')}?{urlencode({'period': month_value(period)})}")
    run.refresh_from_db()
    if run.nothing_new:
        # The run is kept only for the scheduler; the list does not show it, so neither
        # does the answer.
        messages.info(request, _("Nothing new to bill for %(month)s – no run created.") % {"month": month})
        return redirect(f"{reverse('billing:preview')}?{urlencode({'period': month_value(period)})}")
    if run.status == "done":
        messages.success(
            request,
            _("Billing run for %(month)s finished: %(count)s invoices.")
            % {"month": month, "count": run.invoices_count},
        )
    else:
        messages.success(request, _("Billing run for %(month)s started.") % {"month": month})
    return redirect("billing:detail", pk=run.pk)


@require("billing.run")
@require_POST
def resume(request, pk: int):
    run = get_object_or_404(BillingRun, pk=pk)
    with refusal_as_message(request):
        services.billing_run_resume(run=run, user=request.user)
        messages.success(
            request, _("Billing run resumed: the billing accounts not billed yet are billed now.")
        )
    return redirect("billing:detail", pk=run.pk)


def _unstall(run: BillingRun) -> BillingRun:
    """A run standing still is handed on as soon as someone looks at it (idempotent, like
    the scheduler's check), so its page never shows a run waiting for a dead worker."""
    if run.is_active:
        services.billing_run_stalled_resume(run=run)
        run.refresh_from_db()
    return run


@require("view")
def detail(request, pk: int):
    run = get_object_or_404(BillingRun.objects.select_related("started_by"), pk=pk)
    run = _unstall(run)
    reason = request.GET.get("reason") or ""
    if reason not in SkipReason.values:
        reason = ""
    items = configure_table(request, BillingRunItemTable(selectors.run_items(run), prefix="i"))
    if run.is_active:
        items.empty_text = _("The invoices appear here as the run makes them.")
    skips = configure_table(request, BillingRunSkipTable(selectors.run_skips(run, reason=reason), prefix="s"))
    return render(
        request,
        "billing/run_detail.html",
        {
            "run": run,
            "items": items,
            "skips": skips,
            "skip_counts": selectors.run_skip_counts(run),
            "reason": reason,
            "failures": selectors.run_failures(run)[:500],
            # Stored as a code, shown in the reader's language (old rows: their text).
            "error": render_text(run.failure) if run.failure else run.error,
            "log": [
                {
                    **entry,
                    "at": dt.datetime.fromisoformat(entry["at"]),
                    # Stored as a code, shown in the reader's language (old rows: their text).
                    "message": render_text(entry.get("message")),
                }
                for entry in run.log
                if entry.get("at")
            ],
        },
    )


@require("view")
def progress(request, pk: int):
    """The progress bar, polled by htmx while the run is queued or running; once it has
    finished, the page reloads to show what the run did."""
    run = _unstall(get_object_or_404(BillingRun, pk=pk))
    response = render(request, "billing/_progress.html", {"run": run})
    if getattr(request, "htmx", False) and not run.is_active:
        response["HX-Refresh"] = "true"
    return response
