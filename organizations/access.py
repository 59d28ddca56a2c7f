"""Access helpers for views: the active organization and role checks.

Objects are always fetched through scoped managers, so an object of another
organization simply does not exist for the request (404). Role limits are 403.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import render

from .roles import role_has


def _check(request, permission: str):
    # Read views only answer safe methods: a POST to a page that cannot change anything
    # is a client error, and it keeps "every POST is a write" true for role checks.
    if permission == "view" and request.method not in ("GET", "HEAD", "OPTIONS"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.organization is None:
        return render(request, "organizations/no_organization.html", status=403)
    if not role_has(request.role, permission):
        raise PermissionDenied
    return None


def require(permission: str = "view"):
    """Decorator for function views: logged in, member of an organization, role allows."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            denied = _check(request, permission)
            if denied is not None:
                return denied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class OrgPermissionMixin(LoginRequiredMixin):
    """For class-based views: set `permission` (default: any member may view)."""

    permission = "view"

    def dispatch(self, request, *args, **kwargs):
        denied = _check(request, self.permission)
        if denied is not None:
            return denied
        return super().dispatch(request, *args, **kwargs)


def can(request, permission: str) -> bool:
    return role_has(getattr(request, "role", None), permission)
