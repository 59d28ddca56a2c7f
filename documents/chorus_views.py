"""The Chorus Pro page: the invoices and credit notes of payers who receive them through
Chorus Pro, filtered by period, ticked, and downloaded as archives for upload.

One download either way: a single archive (up to 500 documents) is the .tar.gz itself;
more documents make several archives, handed out together in one .zip to unpack, so the
user never has to pick the parts one by one.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from organizations.access import can, require
from organizations.view_kit import refusal_as_message

from . import selectors
from .einvoice.chorus import MAX_INVOICES_PER_ARCHIVE, SYNTAX_LABELS, chorus_refusal
from .filters import ChorusFilter
from .services.chorus import chorus_export_create

EXPORT_PERMISSION = "invoices.issue"
# Longer lists are cut (the filter narrows them); the count above the table says so.
MAX_ROWS = 2000


class ChorusExportForm(forms.Form):
    syntax = forms.ChoiceField(
        label=gettext_lazy("Syntax"),
        choices=list(SYNTAX_LABELS.items()),
        initial="cii",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )


def chorus_export(request):
    """GET: the list (any member); POST: the download (who may issue invoices)."""
    if request.method == "POST":
        return _download(request)
    return _page(request)


@require("view")
def _page(request):
    flt = ChorusFilter(request.GET or None, queryset=selectors.chorus_candidates())
    found = flt.qs
    total = found.count()
    rows = [
        {"document": document, "refusal": chorus_refusal(document, organization=request.organization)}
        for document in found[:MAX_ROWS]
    ]
    return render(
        request,
        "documents/chorus.html",
        {
            "filter": flt,
            "rows": rows,
            "refused": sum(1 for row in rows if row["refusal"]),
            "total": total,
            "cut": total > MAX_ROWS,
            "form": ChorusExportForm(),
            "can_export": can(request, EXPORT_PERMISSION),
            "per_archive": MAX_INVOICES_PER_ARCHIVE,
            "any_payer": selectors.chorus_candidates().exists(),
        },
    )


@require(EXPORT_PERMISSION)
def _download(request):
    back = redirect(request.get_full_path())
    form = ChorusExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose CII or UBL as the syntax of the archive."))
        return back
    ids = [int(value) for value in request.POST.getlist("document") if value.isdigit() and len(value) < 16]
    result = None
    with refusal_as_message(request):
        result = chorus_export_create(
            organization=request.organization,
            user=request.user,
            document_ids=ids,
            syntax=form.cleaned_data["syntax"],
        )
    if result is None:
        return back
    messages.success(
        request,
        ngettext(
            "%(count)s document exported for Chorus Pro in %(filename)s: upload it on chorus-pro.gouv.fr.",
            "%(count)s documents exported for Chorus Pro in %(filename)s: upload it on chorus-pro.gouv.fr.",
            result.count,
        )
        % {"count": result.count, "filename": result.filename}
        if len(result.exports) == 1
        else _(
            "%(count)s documents exported for Chorus Pro in %(archives)s archives of at most %(max)s, "
            "together in %(filename)s: unpack it and upload each archive on chorus-pro.gouv.fr."
        )
        % {
            "count": result.count,
            "archives": len(result.exports),
            "max": MAX_INVOICES_PER_ARCHIVE,
            "filename": result.filename,
        },
    )
    response = HttpResponse(result.content, content_type=result.content_type)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
