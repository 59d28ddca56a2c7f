"""Document lists, the document page with its actions, the PDF, and the folder actions.

Thin: resolve the document (scoped: another organization's document is a 404), check
the role for the document's kind, call one service, say what happened, redirect.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from customers.selectors import invoice_recipient_emails
from folders.models import Folder
from organizations.access import can, require
from organizations.panels import page_panels
from organizations.system_texts import render_text
from organizations.tables import configure_table
from organizations.view_kit import refusal_as_message, refusal_on

from . import einvoice, selectors, services
from .dispatch_views import dispatch_confirm, dispatch_queued_message
from .filters import DocumentFilter
from .forms import CreditNoteForm, DeclineForm, DeliveryNoteForm, QuoteCreateForm, ReasonForm
from .models import Document, DocumentKind
from .pdf import pdf_filename, render_and_store
from .tables import document_table, fill_extension_columns

logger = logging.getLogger(__name__)

# Who may write documents of a kind (organizations/roles.py).
PERMISSION_BY_KIND = {
    DocumentKind.QUOTE: "quotes.issue",
    DocumentKind.INVOICE: "invoices.issue",
    DocumentKind.CREDIT_NOTE: "invoices.issue",
    DocumentKind.DELIVERY_NOTE: "delivery_notes.issue",
    DocumentKind.DUNNING_LETTER: "payments.manage",
}

RENDER_AGAIN_AFTER_SECONDS = 60
# The preview renders a still missing PDF itself once the worker had this long.
RENDER_ON_DEMAND_AFTER_SECONDS = 10

LIST_TITLES = {
    DocumentKind.QUOTE: ("Quotes", "bi-file-earmark-text"),
    DocumentKind.INVOICE: ("Invoices", "bi-receipt"),
    DocumentKind.CREDIT_NOTE: ("Credit notes", "bi-receipt-cutoff"),
    DocumentKind.DELIVERY_NOTE: ("Delivery notes", "bi-truck"),
    DocumentKind.DUNNING_LETTER: ("Dunning letters", "bi-exclamation-triangle"),
}


def _member_or_response(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.organization is None:
        return render(request, "organizations/no_organization.html", status=403)
    return None


def document_form_view(permission_for_kind: dict[str, str] | None = None):
    """GET form + POST on one document (cancel, partial credit): 404 outside the
    organization, 403 when the role may not write documents of this kind."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, pk: int, *args, **kwargs):
            denied = _member_or_response(request)
            if denied is not None:
                return denied
            document = get_object_or_404(Document, pk=pk)
            permission = (permission_for_kind or PERMISSION_BY_KIND)[document.kind]
            if not can(request, permission):
                raise PermissionDenied
            return view(request, document, *args, **kwargs)

        return wrapped

    return decorator


def document_write(view):
    """POST-only write on one document, with the same checks as a form on it."""
    return require_POST(document_form_view()(view))


def _back(document: Document):
    return redirect("documents:detail", pk=document.pk)


# --- lists -----------------------------------------------------------------------------


@require("view")
def document_list(request, kind: str):
    """The list of one kind of document; the URL patterns name the kind."""
    qs = selectors.document_list(kind=kind)
    flt = DocumentFilter(request.GET or None, queryset=qs, kind=kind)
    rows = flt.qs
    table = configure_table(request, document_table(kind, rows))
    fill_extension_columns(table, kind)
    title, icon = LIST_TITLES[kind]
    return render(
        request,
        "documents/list.html",
        {
            "kind": kind,
            "title": _(title),
            "icon": icon,
            "filter": flt,
            "table": table,
            "totals": selectors.list_totals(rows),
            "any_documents": Document.objects.filter(kind=kind).exists(),
        },
    )


# --- the document page -------------------------------------------------------------------


def _action(key, label, icon, *, enabled: bool, reason: str = "", style="btn-outline-secondary", **extra):
    return {
        "key": key,
        "label": label,
        "icon": icon,
        "enabled": enabled,
        "reason": reason,
        "style": style,
        **extra,
    }


def document_actions(request, document: Document) -> list[dict]:
    """The buttons of the document page, disabled with the reason when not possible."""
    allowed = can(request, PERMISSION_BY_KIND[document.kind])
    no_role = _("Your role does not allow this.")
    actions = []
    status = document.status
    if document.is_draft:
        actions.append(
            _action(
                "issue", _("Issue"), "bi-check2-circle", enabled=allowed, reason=no_role, style="btn-primary"
            )
        )
        actions.append(_action("discard", _("Discard draft"), "bi-trash", enabled=allowed, reason=no_role))
        return actions
    actions.append(
        _action(
            "download",
            _("Download PDF"),
            "bi-download",
            enabled=document.has_pdf,
            reason=_("The PDF is being prepared."),
        )
    )
    send_refusal = services.document_dispatchable(document)
    # A cancelled or superseded document is never sent again: no button at all.
    if send_refusal is None or send_refusal.code != "closed":
        actions.append(
            _action(
                "send",
                _("Send"),
                "bi-envelope",
                enabled=allowed and send_refusal is None,
                reason=no_role if not allowed else (send_refusal.messages[0] if send_refusal else ""),
                recipients=", ".join(invoice_recipient_emails(customer=document.payer)),
                confirm=dispatch_confirm(document),
            )
        )
    if document.kind == DocumentKind.QUOTE:
        open_quote = status in services.OPEN_QUOTE_STATUSES
        closed_reason = _("The quote is %(status)s.") % {"status": document.get_status_display()}
        actions.append(
            _action(
                "accept",
                _("Accept"),
                "bi-hand-thumbs-up",
                enabled=allowed and open_quote,
                reason=no_role if not allowed else closed_reason,
                style="btn-success",
            )
        )
        actions.append(
            _action(
                "decline",
                _("Decline"),
                "bi-hand-thumbs-down",
                enabled=allowed and open_quote,
                reason=no_role if not allowed else closed_reason,
            )
        )
        revisable = status in services.REVISABLE_QUOTE_STATUSES and document.folder_id
        actions.append(
            _action(
                "revise",
                _("Revise"),
                "bi-pencil-square",
                enabled=allowed and bool(revisable),
                reason=no_role if not allowed else closed_reason,
            )
        )
    if document.kind == DocumentKind.DELIVERY_NOTE:
        financier = selectors.financier_of(document)
        if financier is not None:
            actions.append(
                _action(
                    "send_to_financier",
                    _("Send to the financier"),
                    "bi-bank",
                    enabled=allowed,
                    reason=no_role,
                    recipients=", ".join(invoice_recipient_emails(customer=financier)),
                    financier=financier.name,
                )
            )
    if document.kind == DocumentKind.INVOICE:
        actions += _invoice_actions(document, allowed=allowed, no_role=no_role)
    return actions


def _invoice_actions(document: Document, *, allowed: bool, no_role: str) -> list[dict]:
    """Cancel and correct, from the rules the services enforce. A cancelled invoice shows
    neither: nothing will ever make them possible, so a disabled button would only be noise."""
    actions = []
    for key, label, icon, style, refusal in (
        (
            "cancel",
            _("Cancel invoice"),
            "bi-x-octagon",
            "btn-outline-danger",
            services.invoice_cancellable(document),
        ),
        (
            "credit",
            _("Invoice correction"),
            "bi-receipt-cutoff",
            "btn-outline-secondary",
            services.invoice_correctable(document),
        ),
    ):
        if refusal is not None and refusal.code == "already_cancelled":
            continue
        reason = no_role if not allowed else (refusal.messages[0] if refusal is not None else "")
        actions.append(
            _action(key, label, icon, enabled=allowed and refusal is None, reason=reason, style=style)
        )
    return actions


@require("view")
def document_detail(request, pk: int):
    try:
        document = selectors.document_detail(pk)
    except Document.DoesNotExist:
        raise Http404
    lines = list(document.lines.all())
    actions = document_actions(request, document)
    # The decline dialog is a form of its own: in the page only when its button can act.
    can_decline = any(a["key"] == "decline" and a["enabled"] for a in actions)
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "lines": lines,
            "actions": actions,
            "history": selectors.document_history(document),
            "credit_notes": list(
                selectors.credit_notes_of(document).order_by("id")
                if document.kind == DocumentKind.INVOICE
                else document.credit_notes.order_by("id")
            ),
            "revisions": list(document.revisions.order_by("id")),
            "credited": selectors.credited_total(document) if document.kind == DocumentKind.INVOICE else None,
            "decline_form": DeclineForm() if can_decline else None,
            "can_render": _can_render(request, document),
            "show_prices": document.kind != DocumentKind.DELIVERY_NOTE,
            "dunning_items": selectors.dunning_items(document, lines),
            "panels": page_panels("document.detail", request, document),
        },
    )


@require("view")
def document_pdf(request, pk: int):
    """The stored PDF, inline (preview) or as a download (?download=1). Tenant staff only:
    the lookup is scoped, so another organization's document is a 404."""
    document = _ensure_pdf(get_object_or_404(Document, pk=pk))
    if not document.pdf:
        raise Http404(_("The PDF is being prepared."))
    try:
        handle = document.pdf.open("rb")
    except FileNotFoundError:
        raise Http404(_("The PDF file is missing."))
    response = FileResponse(
        handle,
        content_type="application/pdf",
        as_attachment=request.GET.get("download") == "1",
        filename=pdf_filename(document),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # The preview is embedded in our own document page.
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


@require("view")
def document_einvoice(request, pk: int):
    """The e-invoice XML of an issued invoice or credit note, as a download: the payer's
    XRechnung syntax, else the CII that the ZUGFeRD PDF carries (?syntax=cii|ubl chooses)."""
    document = get_object_or_404(Document, pk=pk)
    if document.is_draft or document.kind not in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE):
        raise Http404(_("Only issued invoices and credit notes have an e-invoice."))
    syntax, profile = einvoice.FORMATS.get(einvoice.einvoice_format(document), ("cii", "en16931"))
    wanted = request.GET.get("syntax")
    if wanted:
        if wanted not in einvoice.SYNTAXES:
            raise Http404(_("Unknown e-invoice syntax."))
        syntax = wanted
    response = HttpResponse(einvoice.invoice_xml(document, syntax, profile), content_type="application/xml")
    name = pdf_filename(document).removesuffix(".pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}-{syntax}.xml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _ensure_pdf(document: Document, *, older_than: int = 0) -> Document:
    """Render a missing PDF now (idempotent), e.g. for invoices a billing run issued in
    bulk without rendering, or when the worker's task was lost. Never replaces one."""
    if document.is_draft or document.pdf:
        return document
    if (
        older_than
        and document.issued_at
        and timezone.now() - document.issued_at < dt.timedelta(seconds=older_than)
    ):
        return document  # the worker is probably on it
    try:
        return render_and_store(document)
    except Exception:  # noqa: BLE001 - the page keeps offering "render again"
        logger.exception("PDF of document %s could not be rendered on demand", document.pk)
        return document


def _can_render(request, document: Document) -> bool:
    """Offer "render again" only when the PDF should long exist (a failed render)."""
    if document.is_draft or document.pdf or document.issued_at is None:
        return False
    late = timezone.now() - document.issued_at > dt.timedelta(seconds=RENDER_AGAIN_AFTER_SECONDS)
    return late and can(request, PERMISSION_BY_KIND[document.kind])


@require("view")
def document_pdf_status(request, pk: int):
    """htmx: the preview while the PDF is rendered; polls until it exists."""
    document = _ensure_pdf(get_object_or_404(Document, pk=pk), older_than=RENDER_ON_DEMAND_AFTER_SECONDS)
    return render(
        request,
        "documents/_pdf_preview.html",
        {"document": document, "can_render": _can_render(request, document)},
    )


# --- document actions --------------------------------------------------------------------


@document_write
def document_issue(request, document: Document):
    with refusal_as_message(request):
        if document.kind == DocumentKind.QUOTE:
            document = services.quote_issue(quote=document, user=request.user)
        else:
            document = services.document_issue(document=document, user=request.user)
        messages.success(request, render_text(services.issued_message(document)))
    return _back(document)


@document_write
def document_discard(request, document: Document):
    folder_id = document.folder_id
    with refusal_as_message(request):
        services.document_discard(document=document, user=request.user)
        messages.success(request, _("Draft discarded."))
        if folder_id:
            return redirect("folders:detail", pk=folder_id)
        return redirect(selectors.LIST_URL_NAMES[document.kind])
    return _back(document)


@document_write
def document_send(request, document: Document):
    """Send the document the way its payer chose (e-mail, notification, post, Chorus Pro)."""
    with refusal_as_message(request):
        row = services.document_dispatch(document=document, user=request.user)
        messages.success(request, dispatch_queued_message(row))
    return _back(document)


@document_write
def delivery_note_send_to_financier(request, document: Document):
    with refusal_as_message(request):
        to = services.delivery_note_send_to_financier(document=document, user=request.user)
        messages.success(
            request,
            _("%(document)s sent to the financier as proof of delivery (%(to)s).")
            % {"document": document, "to": ", ".join(to)},
        )
    return _back(document)


@document_write
def quote_accept(request, document: Document):
    with refusal_as_message(request):
        services.quote_accept(quote=document, user=request.user)
        messages.success(
            request,
            _("Quote %(number)s accepted; folder %(folder)s is active.")
            % {"number": document.number, "folder": document.folder_label},
        )
    return _back(document)


@document_write
def quote_decline(request, document: Document):
    form = DeclineForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    with refusal_as_message(request):
        services.quote_decline(quote=document, user=request.user, reason=reason)
        messages.success(request, _("Quote %(number)s declined.") % {"number": document.number})
    return _back(document)


@document_write
def quote_revise(request, document: Document):
    with refusal_as_message(request):
        new = services.quote_revise(quote=document, user=request.user)
        messages.success(
            request, _("Quote %(new)s replaces %(old)s.") % {"new": new.number, "old": document.number}
        )
        return _back(new)
    return _back(document)


@document_write
def document_render(request, document: Document):
    with refusal_as_message(request):
        services.document_render_again(document=document, user=request.user)
    return _back(document)


@document_form_view()
def invoice_cancel(request, document: Document):
    if document.kind != DocumentKind.INVOICE:
        raise Http404
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with refusal_on(form):
            credit = services.invoice_cancel(
                invoice=document, user=request.user, reason=form.cleaned_data["reason"]
            )
            messages.success(
                request,
                _("Invoice %(number)s cancelled by cancellation invoice %(credit)s.")
                % {"number": document.number, "credit": credit.number},
            )
            return _back(credit)
    return render(request, "documents/cancel_form.html", {"document": document, "form": form})


@document_form_view()
def credit_note_create(request, document: Document):
    if document.kind != DocumentKind.INVOICE:
        raise Http404
    form = CreditNoteForm(request.POST or None, invoice=document)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        by_lines = data["mode"] == CreditNoteForm.MODE_LINES
        with refusal_on(form):
            credit = services.credit_note_partial(
                invoice=document,
                user=request.user,
                reason=data["reason"],
                line_ids=data["lines"] if by_lines else None,
                amount=None if by_lines else data["amount"],
                tax_rate=None if by_lines else data["tax_rate"],
            )
            messages.success(
                request,
                _("Invoice correction %(credit)s for invoice %(number)s issued.")
                % {"credit": credit.number, "number": document.number},
            )
            return _back(credit)
    return render(request, "documents/credit_note_form.html", {"document": document, "form": form})


# --- folder actions ----------------------------------------------------------------------


@require("quotes.issue")
def quote_create(request, folder_pk: int):
    folder = get_object_or_404(Folder.objects.select_related("customer"), pk=folder_pk)
    form = QuoteCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            quote = services.quote_create(
                folder=folder,
                user=request.user,
                valid_until=data["valid_until"],
                intro_text=data["intro_text"] or None,
                terms=data["terms"],
            )
            if request.POST.get("action") != "draft":
                quote = services.quote_issue(quote=quote, user=request.user)
            if quote.is_draft:
                messages.success(
                    request, _("Draft quote for %(name)s saved.") % {"name": quote.recipient_name}
                )
            else:
                messages.success(request, render_text(services.issued_message(quote)))
            return _back(quote)
    return render(
        request,
        "documents/quote_form.html",
        {"folder": folder, "form": form, "state": selectors.folder_document_state(folder)},
    )


@require("invoices.issue")
@require_POST
def invoice_oneoff(request, folder_pk: int):
    folder = get_object_or_404(Folder, pk=folder_pk)
    with refusal_as_message(request):
        invoice = services.invoice_oneoff_now(folder=folder, user=request.user)
        messages.success(request, render_text(services.issued_message(invoice)))
        waiting = selectors.folder_document_state(folder)["open_oneoff_count"]
        if waiting:
            # Lines left out because they are not delivered yet: say so, or they look forgotten.
            messages.info(
                request,
                ngettext(
                    "%(count)s one-off line awaits delivery; it is invoiced once delivered.",
                    "%(count)s one-off lines await delivery; they are invoiced once delivered.",
                    waiting,
                )
                % {"count": waiting},
            )
        return _back(invoice)
    return redirect("folders:detail", pk=folder.pk)


@require("delivery_notes.issue")
def delivery_note_create(request, folder_pk: int):
    folder = get_object_or_404(Folder.objects.select_related("customer"), pk=folder_pk)
    equipment_qs = selectors.undelivered_equipment(folder)
    form = DeliveryNoteForm(request.POST or None, equipment_qs=equipment_qs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal_on(form):
            note = services.delivery_note_issue(
                folder=folder,
                user=request.user,
                equipment_ids=[piece.pk for piece in data["equipment"]],
                delivery_date=data["delivery_date"],
            )
            messages.success(request, render_text(services.issued_message(note)))
            return _back(note)
    return render(
        request,
        "documents/delivery_note_form.html",
        {
            "folder": folder,
            "form": form,
            "pieces": list(equipment_qs),
            "chosen": request.POST.getlist("equipment") if request.method == "POST" else [],
        },
    )
