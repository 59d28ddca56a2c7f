"""The portal's login: one account per contact with portal access.

A portal account is a Django user with no membership in any organization (so no back-office
page opens for it) tied to exactly one contact. What the account may see follows from the
contact: its customer's documents, folders and tickets, and nothing else. Removing the
contact's portal access or deactivating the contact ends the account's access on its next
request (`portal.access.portal_view` checks it every time).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from organizations.models import TenantModel


class PortalAccount(TenantModel):
    contact = models.OneToOneField(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="portal_account",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_account"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The last invitation sent; a new one makes the links of the earlier ones invalid.
    invited_at = models.DateTimeField(_("invited on"), null=True, blank=True)
    # When the contact first set a password (accepted the invitation).
    activated_at = models.DateTimeField(_("activated on"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal account")
        verbose_name_plural = _("portal accounts")

    def __str__(self) -> str:
        return str(self.contact)

    @property
    def is_open(self) -> bool:
        """The contact may use the portal right now."""
        contact = self.contact
        return self.user.is_active and contact.is_active and contact.has_portal_access and bool(contact.email)

    @property
    def may_change_billing_data(self) -> bool:
        """Billing rights: the contact is one of the customer's invoice recipients, a flag
        staff set on the contact (the people who receive the invoices are the ones who may
        say where they go and from which account they are paid)."""
        return self.contact.is_invoice_recipient

    @property
    def last_login(self):
        return self.user.last_login
