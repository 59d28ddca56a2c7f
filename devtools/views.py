"""The "Sent e-mails" page: what the file outbox holds, for admins, only in DEBUG.

The outbox is a tool of the developer's own machine, so outside DEBUG the pages do not
exist (404), and for anyone but an administrator they do not exist either (404 rather
than 403: the mail of customers is nothing to learn about). An admin sees the messages
sent in their active organization's scope (and the rare ones sent outside any
organization), never another organization's.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from organizations.access import can, require

from . import selectors


def outbox_view(view):
    """Only in DEBUG, only for a logged-in admin of the active organization, only GET."""
    checked = require("view")(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not settings.DEBUG:
            raise Http404
        if request.user.is_authenticated and not can(request, "organization.manage"):
            raise Http404
        return checked(request, *args, **kwargs)

    return wrapped


@outbox_view
def outbox_list(request):
    messages, total = selectors.outbox_message_list(organization_id=request.organization.pk)
    return render(
        request,
        "devtools/outbox_list.html",
        {"messages_sent": messages, "total": total, "folder": selectors.outbox_dir()},
    )


@outbox_view
def outbox_detail(request, name: str):
    message = selectors.outbox_message_get(name=name, organization_id=request.organization.pk)
    if message is None:
        raise Http404
    return render(request, "devtools/outbox_detail.html", {"message": message})


@outbox_view
def outbox_attachment(request, name: str, index: int):
    found = selectors.outbox_attachment_get(name=name, index=index, organization_id=request.organization.pk)
    if found is None:
        raise Http404
    attachment, payload = found
    response = HttpResponse(payload, content_type=attachment.content_type)
    # PDFs open in the browser's viewer; anything else is saved, never rendered as a page.
    response.headers["Content-Disposition"] = content_disposition_header(
        as_attachment=attachment.content_type != "application/pdf", filename=attachment.filename
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
