"""The invitation link's token: a password-reset style token with its own lifetime.

It is bound to the user's password and last login (so it stops working once the password
is set: single use) and to the account's last invitation (so resending makes the earlier
links invalid). It expires after PORTAL_INVITATION_DAYS.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int
from django_scopes import scopes_disabled


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "portal.tokens.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        with scopes_disabled():
            account = getattr(user, "portal_account", None)
        invited = account.invited_at.isoformat() if account is not None and account.invited_at else ""
        return super()._make_hash_value(user, timestamp) + invited

    def check_token(self, user, token):
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        lifetime = settings.PORTAL_INVITATION_DAYS * 24 * 3600
        return (self._num_seconds(self._now()) - ts) <= lifetime


invitation_token = InvitationTokenGenerator()
