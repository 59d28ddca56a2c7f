from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .access import account_of


class PortalLoginForm(AuthenticationForm):
    """Only portal users whose contact may use the portal get in; staff accounts never."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("E-mail address or password is wrong."),
        "not_portal": _("This account has no access to the customer portal."),
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        account = account_of(user)
        if account is None or not account.is_open:
            raise forms.ValidationError(self.error_messages["not_portal"], code="not_portal")
