"""Bank statements: the list with the upload, one statement with its entries and the
review of what the matcher could not book by itself."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from organizations.access import can, require
from organizations.tables import configure_table
from organizations.view_kit import refusal_as_message

from .. import statements
from ..filters import StatementFilter
from ..forms import StatementUploadForm
from ..models import OPEN_ENTRY_STATUSES, BankStatement, EntryStatus, ImportStatus
from ..statements import statement_receive, statement_schedule
from ..tables import StatementTable

MAX_UPLOAD = 50 * 1024 * 1024
ENTRIES_PER_PAGE = 100


def _statements():
    return BankStatement.objects.defer("content").annotate(
        open_count=Count("entries", filter=Q(entries__status__in=OPEN_ENTRY_STATUSES))
    )


@require("view")
def statement_list(request):
    flt = StatementFilter(request.GET or None, queryset=_statements())
    table = configure_table(request, StatementTable(flt.qs))
    return render(
        request,
        "payments/statement_list.html",
        {
            "filter": flt,
            "table": table,
            "form": StatementUploadForm() if can(request, "payments.manage") else None,
            "any_statements": BankStatement.objects.exists(),
        },
    )


@require_POST
@require("payments.manage")
def statement_upload(request):
    form = StatementUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CAMT file (XML) to import."))
        return redirect("payments:statements")
    upload = form.cleaned_data["file"]
    if upload.size > MAX_UPLOAD:
        messages.error(request, _("The file is larger than 50 MB."))
        return redirect("payments:statements")
    try:
        result = statement_receive(
            organization=request.organization, data=upload.read(), file_name=upload.name, user=request.user
        )
    except ValidationError as exc:
        messages.error(
            request, _("The file was not imported: %(reason)s") % {"reason": " ".join(exc.messages)}
        )
        return redirect("payments:statements")
    if not result.created:
        messages.warning(
            request,
            _("This file was imported before (%(name)s); nothing was changed.")
            % {"name": result.statement.file_name},
        )
        return redirect("payments:statement", pk=result.statement.pk)
    statement_schedule(result.statement)
    messages.success(
        request,
        ngettext(
            "Statement received: its %(count)d entry is being matched and booked.",
            "Statement received: its %(count)d entries are being matched and booked.",
            result.statement.entry_count,
        )
        % {"count": result.statement.entry_count},
    )
    return redirect("payments:statement", pk=result.statement.pk)


@require("view")
def statement_progress(request, pk: int):
    """The import's state, polled by htmx while a worker books the statement; once it
    has finished, the page reloads to show the entries."""
    statement = get_object_or_404(_statements(), pk=pk)
    response = render(
        request,
        "payments/_statement_import.html",
        {"statement": statement, "can_manage": can(request, "payments.manage")},
    )
    if getattr(request, "htmx", False) and statement.import_status == ImportStatus.DONE:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@require("payments.manage")
def statement_retry(request, pk: int):
    statement = get_object_or_404(BankStatement.objects.defer("content"), pk=pk)
    with refusal_as_message(request):
        statements.statement_retry(statement=statement, user=request.user)
        messages.success(
            request, _("The import of %(name)s was started again.") % {"name": statement.file_name}
        )
    return redirect("payments:statement", pk=statement.pk)


@require("view")
def statement_detail(request, pk: int):
    statement = get_object_or_404(_statements(), pk=pk)
    show = request.GET.get("show", "")
    entries = statement.entries.select_related("payer", "payment").order_by("position")
    if show == "review":
        entries = entries.filter(status__in=OPEN_ENTRY_STATUSES)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    counts = dict(statement.entries.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return render(
        request,
        "payments/statement_detail.html",
        {
            "statement": statement,
            "page": page,
            "entries": page.object_list,
            "counts": [(s, s.label, counts.get(s.value, 0)) for s in EntryStatus],
            "show": show,
            "open_statuses": [s.value for s in OPEN_ENTRY_STATUSES],
            "can_manage": can(request, "payments.manage"),
        },
    )


@require("view")
def statement_file(request, pk: int):
    """The file as the bank sent it, kept unchanged with its import."""
    statement = get_object_or_404(BankStatement, pk=pk)
    response = HttpResponse(bytes(statement.content), content_type="application/xml")
    name = statement.file_name.replace('"', "") or f"statement-{statement.pk}.xml"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
