"""Resolve the active organization of the logged-in user and open its scope.

Every view, template and form of a request runs inside `scope(organization=...)`, so a
scoped query can only ever see the active organization's rows, and in the organization's
time zone, so every time on a page is the organization's local time.
"""

from __future__ import annotations

from django_scopes import scope

from .models import Membership
from .timezones import organization_time

SESSION_KEY = "active_organization_id"


class ActiveOrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organization = None
        request.membership = None
        request.memberships = []
        request.role = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            memberships = list(
                Membership.objects.filter(user=user)
                .select_related("organization")
                .order_by("organization__name")
            )
            request.memberships = memberships
            wanted = request.session.get(SESSION_KEY)
            active = next((m for m in memberships if m.organization_id == wanted), None)
            if active is None and memberships:
                active = memberships[0]
                request.session[SESSION_KEY] = active.organization_id
            if active is not None:
                request.membership = active
                request.organization = active.organization
                request.role = active.role
            with scope(organization=request.organization), organization_time(request.organization):
                return self.get_response(request)
        # Anonymous requests (login, static, portal login) see no tenant data at all.
        with scope(organization=None):
            return self.get_response(request)
