"""Direct debits: the batch list, a new batch (date, candidates, create), the batch page
with its file and what happens next (submit, settle, return, cancel), and the GoCardless
exports. Thin: parse, call one service in payments.batches, say what happened."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from organizations.access import require
from organizations.money import ZERO
from organizations.view_kit import refusal_as_message

from .. import batches
from ..forms import BatchDateForm, ReturnForm
from ..models import BatchKind, BatchStatus, DirectDebitBatch, DirectDebitItem, ItemStatus

PER_PAGE = 50
# The new-batch page: invoices per page, and how many of those that cannot be collected
# are listed with their reason (the rest are counted).
NEW_PER_PAGE = 100
REFUSED_SHOWN = 200


@require("view")
def batch_list(request):
    qs = DirectDebitBatch.objects.all().order_by("-collection_date", "-id")
    kind = request.GET.get("kind")
    if kind in BatchKind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/batch_list.html",
        {"page": page, "total": qs.count(), "kind": kind, "kinds": BatchKind.choices},
    )


def _kind(request) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or BatchKind.SEPA
    return kind if kind in BatchKind.values else BatchKind.SEPA


def _ids(request, name: str) -> set[int]:
    return {int(v) for v in request.POST.getlist(name) if v.isdigit() and len(v) < 16}


def _selection(request) -> tuple[set[int], set[int]]:
    """What the clerk ticked on the page shown, and what was unticked on any page so far:
    the rows of the page shown (``shown``) that are not ticked join the exclusions carried
    from the other pages (``exclude``); one ticked again leaves them."""
    shown, ticked = _ids(request, "shown"), _ids(request, "invoice")
    excluded = (_ids(request, "exclude") - shown) | (shown - ticked)
    return ticked, excluded


@require("payments.manage")
def batch_new(request):
    """Pick the collection date, see the invoices that can be collected on it (ticked) and
    those that cannot (with the reason), create the batch from the ticked ones.

    Thousands of invoices come in pages. "All matching" (the default) collects every
    invoice that can be collected on the date except the ones unticked on any page; the
    pages are walked with the form's own buttons, so the unticked ones travel along.
    Without it, only the invoices ticked on the page shown are collected."""
    today = timezone.localdate()
    kind = _kind(request)
    org = request.organization
    data = request.POST if request.method == "POST" else request.GET
    form = BatchDateForm(
        data if "date" in data else None, initial={"date": batches.default_collection_date(org, today=today)}
    )
    date = form.cleaned_data["date"] if form.is_bound and form.is_valid() else None
    if date is None and not form.is_bound:
        date = batches.default_collection_date(org, today=today)
    ticked, excluded = _selection(request) if request.method == "POST" else (set(), set())
    every = request.method == "GET" or request.POST.get("all") == "1"
    if kind == BatchKind.GOCARDLESS:
        found = batches.gocardless_candidates(organization=org, charge_date=date) if date else []
    else:
        found = batches.candidates(organization=org, collection_date=date) if date else []
    ok = [c for c in found if c.collectable]
    if request.method == "POST" and date is not None and "goto" not in request.POST:
        ids = [c.invoice.pk for c in ok if c.invoice.pk not in excluded] if every else sorted(ticked)
        with refusal_as_message(request):
            made = batches.batches_create(
                organization=org,
                collection_date=date,
                invoice_ids=ids,
                user=request.user,
                today=today,
                kind=kind,
            )
            for batch in made:
                messages.success(
                    request,
                    _(
                        "Batch of %(count)s collections (%(total)s €) for %(date)s created: download the file and send it to the bank."
                    )
                    % {
                        "count": batch.count,
                        "total": batch.total,
                        "date": date_format(date, "SHORT_DATE_FORMAT"),
                    },
                )
            if len(made) == 1:
                return redirect("payments:batch_detail", pk=made[0].pk)
            return redirect(f"{reverse('payments:batches')}?kind={kind}")
    refusal = batches.organization_refusal(org, kind=kind)
    date_refusal = batches.collection_date_refusal(org, date, today=today) if date else None
    number = request.POST.get("goto") if request.method == "POST" else request.GET.get("page")
    page = Paginator(ok, NEW_PER_PAGE).get_page(number)
    chosen = [c for c in ok if c.invoice.pk not in excluded]
    refused = [c for c in found if not c.collectable]
    return render(
        request,
        "payments/batch_new.html",
        {
            "form": form,
            "kind": kind,
            "date": date,
            "refusal": refusal,
            "date_refusal": date_refusal,
            "collectable": ok,
            "page": page,
            "rows": [(c, c.invoice.pk not in excluded) for c in page],
            "excluded": sorted(excluded),
            "every": every,
            "chosen_count": len(chosen),
            "chosen_total": sum((c.amount for c in chosen), ZERO),
            "refused": refused[:REFUSED_SHOWN],
            "refused_count": len(refused),
            "total": sum((c.amount for c in ok), ZERO),
            "settings_url": reverse("organizations:settings"),
        },
    )


@require("view")
def batch_detail(request, pk: int):
    batch = get_object_or_404(DirectDebitBatch, pk=pk)
    items = batch.items.select_related("document", "payer", "mandate").order_by("id")
    page = Paginator(items, 200).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/batch_detail.html",
        {
            "batch": batch,
            "page": page,
            "return_form": ReturnForm(initial={"date": timezone.localdate()}),
            "can_return": batch.status in (BatchStatus.SUBMITTED, BatchStatus.SETTLED),
            "returnable": (ItemStatus.PENDING, ItemStatus.SETTLED),
        },
    )


@require("view")
def batch_download(request, pk: int):
    batch = get_object_or_404(DirectDebitBatch, pk=pk)
    if not batch.file:
        raise Http404
    name = batch.file.name.rsplit("/", 1)[-1]
    content_type = "text/csv" if name.endswith(".csv") else "application/xml"
    return FileResponse(batch.file.open("rb"), as_attachment=True, filename=name, content_type=content_type)


def _batch_action(service, success: str):
    @require("payments.manage")
    @require_POST
    def view(request, pk: int):
        batch = get_object_or_404(DirectDebitBatch, pk=pk)
        with refusal_as_message(request):
            service(batch=batch, user=request.user)
            messages.success(request, str(success) % {"batch": batch})
        return redirect("payments:batch_detail", pk=batch.pk)

    return view


batch_submit = _batch_action(
    batches.batch_submit, gettext_lazy("Batch %(batch)s marked as submitted to the bank.")
)
batch_settle = _batch_action(
    batches.batch_settle, gettext_lazy("Batch %(batch)s settled: its invoices are paid.")
)
batch_cancel = _batch_action(
    batches.batch_cancel, gettext_lazy("Batch %(batch)s cancelled: its invoices can be collected again.")
)


@require("payments.manage")
@require_POST
def item_return(request, pk: int):
    item = get_object_or_404(DirectDebitItem, pk=pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        with refusal_as_message(request):
            batches.item_return(
                item=item,
                reason=form.cleaned_data["reason"],
                date=form.cleaned_data["date"],
                user=request.user,
            )
            messages.success(
                request,
                _("Return of %(number)s recorded (%(reason)s): the invoice is open again.")
                % {"number": item.document.number, "reason": form.cleaned_data["reason"]},
            )
    return redirect("payments:batch_detail", pk=item.batch_id)


@require("payments.manage")
def gocardless_mandates_export(request):
    data = batches.gocardless_mandates_csv(organization=request.organization, today=timezone.localdate())
    response = HttpResponse(data, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="gocardless-mandates-{timezone.localdate():%Y-%m-%d}.csv"'
    )
    return response
