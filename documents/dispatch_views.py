"""The outbox pages: mails that failed (with "send again"), the post to print as one PDF,
what waits for the Chorus Pro export, every recent dispatch; the document e-mail templates
(organization settings); and the outbox panel of the document page.

Thin like documents.views: scoped lookups (another organization's row is a 404), the
role checked for the document's kind, one service call, a specific message.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers.selectors import invoice_recipient_emails
from organizations.access import can, require
from organizations.forms import StyledFormMixin
from organizations.tables import configure_table
from organizations.view_kit import refusal_as_message, refusal_on

from . import selectors, services
from .dispatch_mail import LANGUAGES, PLACEHOLDERS
from .models import Dispatch, DispatchChannel, Document
from .tables import DispatchTable

SHOWS = {
    "failed": gettext_lazy("Not sent"),
    "print": gettext_lazy("To print"),
    "chorus": gettext_lazy("Waiting for Chorus Pro"),
    "all": gettext_lazy("All"),
}
LANGUAGE_NAMES = {"de": gettext_lazy("German"), "en": gettext_lazy("English")}


def _may_send(request, document: Document) -> bool:
    from .views import PERMISSION_BY_KIND

    return can(request, PERMISSION_BY_KIND[document.kind])


def dispatch_confirm(document: Document) -> str:
    """The question the "send" button asks, for the payer's channel."""
    channel = services.dispatch_channel_for(document)
    to = ", ".join(invoice_recipient_emails(customer=document.payer))
    if channel == DispatchChannel.POST:
        return _("Put the document in the list of letters to print?")
    if channel == DispatchChannel.CHORUS:
        return _("Put the document in the next Chorus Pro export?")
    if channel == DispatchChannel.NOTIFY and to:
        return _("Send a notification with the link to the portal to %(to)s?") % {"to": to}
    return ""


def dispatch_queued_message(row: Dispatch) -> str:
    document = row.document
    if row.channel == DispatchChannel.POST:
        return _("%(document)s is in the list of letters to print.") % {"document": document}
    if row.channel == DispatchChannel.CHORUS:
        return _("%(document)s waits for the Chorus Pro export.") % {"document": document}
    return _("%(document)s is being sent to %(to)s.") % {
        "document": document,
        "to": ", ".join(row.recipients),
    }


# --- the document page's panel -------------------------------------------------------------------


def dispatch_panel(request, document: Document) -> dict | None:
    """The document's outbox rows, each failed mail with "send again" when the role may."""
    if document.is_draft:
        return None
    rows = selectors.dispatches_of(document)
    if not rows:
        return None
    allowed = _may_send(request, document)
    return {
        "rows": [
            {
                "row": row,
                "retry": allowed and services.dispatch_retry_refusal(row) is None,
                "interrupted": services.dispatch_is_stale(row),
            }
            for row in rows
        ],
        "document": document,
    }


# --- the outbox ------------------------------------------------------------------------------------


@require("view")
def outbox(request):
    show = request.GET.get("show")
    if show not in SHOWS:
        show = "failed"
    if show == "failed":
        rows = selectors.dispatches_needing_attention()
    elif show == "print":
        rows = selectors.dispatches_waiting(DispatchChannel.POST)
    elif show == "chorus":
        rows = selectors.dispatches_waiting(DispatchChannel.CHORUS)
    else:
        rows = selectors.dispatches_all()
    table = configure_table(request, DispatchTable(rows))
    table.attention = show == "failed"
    return render(
        request,
        "documents/outbox.html",
        {"table": table, "show": show, "show_label": SHOWS[show], "counts": selectors.outbox_counts()},
    )


def _next_or(request, fallback: str):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


@require_POST
def dispatch_send_again(request, pk: int):
    """Send a failed mail again: 404 outside the organization, 403 when the role may not
    write documents of this kind."""
    from .views import _member_or_response

    denied = _member_or_response(request)
    if denied is not None:
        return denied
    row = get_object_or_404(Dispatch.objects.select_related("document__payer"), pk=pk)
    if not _may_send(request, row.document):
        raise PermissionDenied
    with refusal_as_message(request):
        services.dispatch_retry(dispatch=row, user=request.user, recipients=services.dispatch_recipients(row))
        messages.success(request, _("%(document)s is being sent again.") % {"document": row.document})
    return _next_or(request, "documents:outbox")


@require("view")
def post_list(request):
    rows = list(selectors.dispatches_waiting(DispatchChannel.POST))
    return render(
        request,
        "documents/outbox_print.html",
        {"rows": rows, "can_print": can(request, "invoices.issue"), "counts": selectors.outbox_counts()},
    )


@require_POST
@require("invoices.issue")
def post_print(request):
    """The chosen letters as one PDF to print; they count as sent from now on."""
    with refusal_as_message(request):
        data, count = services.post_print(
            organization=request.organization,
            user=request.user,
            dispatch_ids=[int(v) for v in request.POST.getlist("dispatch") if v.isdigit() and len(v) < 12],
        )
        response = HttpResponse(data, content_type="application/pdf")
        name = f"to-print-{timezone.localdate():%Y-%m-%d}-{count}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response
    return redirect("documents:outbox_print")


# --- e-mail templates -------------------------------------------------------------------------------


TEMPLATE_CHANNELS = (DispatchChannel.EMAIL, DispatchChannel.NOTIFY)


def _field(channel: str, language: str, part: str) -> str:
    return f"{channel}_{language}_{part}"


def _template_fields() -> dict[str, forms.Field]:
    names = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    fields: dict[str, forms.Field] = {}
    for channel in TEMPLATE_CHANNELS:
        for language in LANGUAGES:
            fields[_field(channel, language, "subject")] = forms.CharField(
                label=gettext_lazy("subject"), required=False, max_length=200
            )
            fields[_field(channel, language, "body")] = forms.CharField(
                label=gettext_lazy("text"),
                required=False,
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 8}),
                help_text=format_lazy(
                    "{} {}", gettext_lazy("Empty: the built-in text. Placeholders:"), names
                ),
            )
    return fields


class _TemplatesFormBase(forms.Form):
    """Subject and text of the document e-mail and of the notification, per language."""

    def __init__(self, *args, templates: dict, **kwargs):
        initial = {}
        for (channel, language), template in templates.items():
            initial[_field(channel, language, "subject")] = template.subject
            initial[_field(channel, language, "body")] = template.body
        super().__init__(*args, initial=initial, **kwargs)
        self.sections = [
            (
                f"{DispatchChannel(channel).label} – {LANGUAGE_NAMES[language]}",
                [self[_field(channel, language, "subject")], self[_field(channel, language, "body")]],
            )
            for channel in TEMPLATE_CHANNELS
            for language in LANGUAGES
        ]

    def texts(self) -> dict[tuple[str, str], tuple[str, str]]:
        data = self.cleaned_data
        return {
            (channel, language): (
                data[_field(channel, language, "subject")],
                data[_field(channel, language, "body")],
            )
            for channel in TEMPLATE_CHANNELS
            for language in LANGUAGES
        }


DispatchTemplatesForm = type(
    "DispatchTemplatesForm",
    (StyledFormMixin, _TemplatesFormBase),
    {"__module__": __name__, **_template_fields()},
)


def _templates_page(request, form, *, status: int = 200):
    return render(
        request,
        "documents/mail_templates.html",
        {"form": form, "can_manage": can(request, "organization.manage"), "placeholders": PLACEHOLDERS},
        status=status,
    )


@require("view")
def mail_templates(request):
    templates = services.dispatch_mail_templates(request.organization)
    return _templates_page(request, DispatchTemplatesForm(templates=templates))


@require_POST
@require("organization.manage")
def mail_templates_save(request):
    templates = services.dispatch_mail_templates(request.organization)
    form = DispatchTemplatesForm(request.POST, templates=templates)
    if form.is_valid():
        with refusal_on(form):
            services.dispatch_mail_templates_update(
                organization=request.organization, user=request.user, texts=form.texts()
            )
            messages.success(request, _("Document e-mail templates saved."))
            return redirect("documents:mail_templates")
    return _templates_page(request, form)
