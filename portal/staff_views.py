"""Back-office pages of the portal (under the staff session, outside /portal/)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.models import Contact
from customers.views import detail_url
from organizations.access import require

from . import services


@require("customers.change")
@require_POST
def invite(request, contact_pk: int):
    contact = get_object_or_404(Contact.objects.select_related("customer"), pk=contact_pk)
    try:
        services.portal_invite(contact=contact, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The portal invitation for %(contact)s is being sent to %(email)s.")
            % {"contact": contact, "email": contact.email},
        )
    return redirect(detail_url(contact.customer, "contacts"))
