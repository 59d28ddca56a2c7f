"""The portal's one door: every portal view is wrapped in `portal_view`.

It lets a request through only for a logged-in portal user whose contact may use the portal
right now, opens that contact's organization scope and time zone, and sets
`request.portal_account`, `request.portal_contact` and `request.portal_customer`. Every
portal query filters by `request.portal_customer` (or by documents addressed to it), so an
object of another customer or organization is a 404.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from organizations.timezones import organization_time

from .models import PortalAccount


def account_of(user) -> PortalAccount | None:
    """The portal account of a user, or None for staff and strangers."""
    if user is None or not user.is_authenticated:
        return None
    with scopes_disabled():
        return (
            PortalAccount.objects.select_related("contact__customer", "organization", "user")
            .filter(user=user)
            .first()
        )


def portal_view(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        account = account_of(request.user)
        if account is None or not account.is_open:
            if request.user.is_authenticated:
                # Access was taken away (or this is not a portal user): end the session now.
                logout(request)
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        request.portal_account = account
        request.portal_contact = account.contact
        request.portal_customer = account.contact.customer
        request.organization = account.organization
        with scope(organization=account.organization), organization_time(account.organization):
            return view(request, *args, **kwargs)

    return wrapped
