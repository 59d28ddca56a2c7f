"""Portal contacts log in with their e-mail address and password.

Each contact with portal access has its own user with a generated user name, because the
same person (the same e-mail address) can be a contact of two customers or of two
organizations. The login tries every portal user with that e-mail address and takes the
one whose password matches; a person with the same password on two accounts gets the
oldest open one (each account has its own invitation, so this is rare and harmless: both
are theirs).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django_scopes import scopes_disabled

User = get_user_model()


class PortalEmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or not password or "@" not in username:
            return None
        with scopes_disabled():
            candidates = list(
                User.objects.filter(email__iexact=username.strip(), portal_account__isnull=False)
                .select_related("portal_account__contact")
                .order_by("pk")
            )
        matching = [u for u in candidates if u.check_password(password) and self.user_can_authenticate(u)]
        with scopes_disabled():
            open_ones = [u for u in matching if u.portal_account.is_open]
        chosen = (open_ones or matching or [None])[0]
        if chosen is None:
            # Spend the hashing time a real check takes, so a wrong address and a wrong
            # password cannot be told apart by the answer's delay.
            User().set_password(password)
        return chosen
