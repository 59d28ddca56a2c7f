from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_scopes import scopes_disabled

from organizations.forms import StyledFormMixin
from organizations.validators import normalize_iban, validate_bic, validate_iban

from .access import account_of

User = get_user_model()


class PortalLoginForm(AuthenticationForm):
    """Only portal users whose contact may use the portal get in; staff accounts never."""

    username = forms.CharField(label=_("E-mail address"), max_length=254)

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


class StaffLoginForm(AuthenticationForm):
    """The back office's login: a customer's portal account is sent to the portal."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if account_of(user) is not None:
            # The login page shows its own text with the portal's address for this refusal.
            self.portal_account_refused = True
            raise forms.ValidationError(
                _("This is a customer portal account. Please use the customer portal."), code="portal_account"
            )


class PortalPasswordResetForm(PasswordResetForm):
    """Reset mails go to portal accounts only (a staff user with the same address is not
    reset from the portal), one mail per open account of that address."""

    def get_users(self, email):
        with scopes_disabled():
            users = list(
                User.objects.filter(email__iexact=email, is_active=True, portal_account__isnull=False)
                .select_related("portal_account__contact__customer", "portal_account__organization")
                .order_by("pk")
            )
            return [user for user in users if user.portal_account.is_open]


class BillingDataForm(StyledFormMixin, forms.Form):
    """The company's invoice e-mail and direct-debit account, as a contact with billing
    rights changes them in the portal."""

    invoice_email = forms.EmailField(label=_("Invoice e-mail address"), required=False)
    account_holder = forms.CharField(label=_("Account holder"), max_length=200, required=False)
    iban = forms.CharField(label=_("IBAN"), max_length=42, required=False)
    bic = forms.CharField(
        label=_("BIC"), max_length=15, required=False, help_text=_("Leave empty: it is taken from the IBAN.")
    )

    def clean_iban(self):
        iban = normalize_iban(self.cleaned_data["iban"])
        if iban:
            validate_iban(iban)
        return iban

    def clean_bic(self):
        bic = self.cleaned_data["bic"].replace(" ", "").upper()
        if bic:
            validate_bic(bic)
        return bic

    def clean(self):
        data = super().clean()
        if self.initial.get("iban") and "iban" in data and not data["iban"]:
            raise ValidationError({"iban": _("Enter the new IBAN; the account cannot be removed here.")})
        return data
