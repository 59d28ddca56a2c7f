"""Separate sessions for the portal and the back office.

The portal's pages read and write their own session cookie, limited to the portal's path,
so a contact's login never reaches a back-office page and a staff login never opens the
portal; logging in on one side leaves the other side's session alone. Everything else
about sessions (store, lifetime, flags) is Django's.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date

PORTAL_PREFIX = "/portal/"


def is_portal_path(path: str) -> bool:
    return path.startswith(PORTAL_PREFIX)


def cookie_for(path: str) -> tuple[str, str]:
    """The session cookie's name and path for a request path."""
    if is_portal_path(path):
        return settings.PORTAL_SESSION_COOKIE_NAME, PORTAL_PREFIX
    return settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_PATH


class SplitSessionMiddleware(SessionMiddleware):
    def process_request(self, request):
        name, _path = cookie_for(request.path_info)
        request.session = self.SessionStore(request.COOKIES.get(name))

    def process_response(self, request, response):
        try:
            accessed = request.session.accessed
            modified = request.session.modified
            empty = request.session.is_empty()
        except AttributeError:
            return response
        name, path = cookie_for(request.path_info)
        vary = accessed
        if name in request.COOKIES and empty:
            response.delete_cookie(
                name,
                path=path,
                domain=settings.SESSION_COOKIE_DOMAIN,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            vary = True
        elif (modified or settings.SESSION_SAVE_EVERY_REQUEST) and not empty and response.status_code < 500:
            if request.session.get_expire_at_browser_close():
                max_age = expires = None
            else:
                max_age = request.session.get_expiry_age()
                expires = http_date(time.time() + max_age)
            try:
                request.session.save()
            except UpdateError:
                raise SessionInterrupted(
                    "The request's session was deleted before the request completed."
                ) from None
            response.set_cookie(
                name,
                request.session.session_key,
                max_age=max_age,
                expires=expires,
                domain=settings.SESSION_COOKIE_DOMAIN,
                path=path,
                secure=settings.SESSION_COOKIE_SECURE or None,
                httponly=settings.SESSION_COOKIE_HTTPONLY or None,
                samesite=settings.SESSION_COOKIE_SAMESITE,
            )
            vary = True
        if vary:
            patch_vary_headers(response, ("Cookie",))
        return response
