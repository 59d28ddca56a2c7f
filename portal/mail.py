"""The portal's e-mails: the invitation to the contact (in its company's document
language, in the organization's name) and the notice to the organization's staff."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from .models import PortalAccount
from .tokens import invitation_token


def _language(account: PortalAccount) -> str:
    language = account.contact.customer.language or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _sender(account: PortalAccount) -> str:
    # Django encodes the display name when it sends; quoted, a comma in the name is safe.
    name = account.organization.name.replace('"', "").replace("\\", "")
    return f'"{name}" <{settings.DEFAULT_FROM_EMAIL}>'


def invitation_link(account: PortalAccount) -> str:
    uid = urlsafe_base64_encode(force_bytes(account.user.pk))
    token = invitation_token.make_token(account.user)
    path = reverse("portal:invitation", args=[uid, token])
    return settings.SITE_URL.rstrip("/") + path


def invitation_message(account: PortalAccount) -> EmailMessage:
    organization = account.organization
    contact = account.contact
    with translation.override(_language(account)):
        subject = _("Your access to the customer portal of %(organization)s") % {
            "organization": organization.name
        }
        body = _(
            "Hello %(name)s,\n\n"
            "%(organization)s invites you to its customer portal. There you find the invoices of "
            "%(customer)s, your services and equipment.\n\n"
            "Set your password with this link (valid for %(days)s days, usable once):\n%(link)s\n\n"
            "Afterwards you log in with your e-mail address %(email)s at:\n%(login)s\n\n"
            "Kind regards\n%(organization)s\n"
        ) % {
            "name": str(contact),
            "organization": organization.name,
            "customer": contact.customer.name,
            "days": settings.PORTAL_INVITATION_DAYS,
            "link": invitation_link(account),
            "email": contact.email,
            "login": settings.SITE_URL.rstrip("/") + reverse("portal:login"),
        }
    return EmailMessage(
        subject=subject,
        body=body,
        from_email=_sender(account),
        to=[contact.email],
        reply_to=[organization.email] if organization.email else None,
    )


def billing_notice_message(account: PortalAccount, summary: str) -> EmailMessage | None:
    """To the organization's own address; None when it has none (the action is enough)."""
    organization = account.organization
    if not organization.email:
        return None
    contact = account.contact
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Customer portal: %(customer)s changed its billing data") % {
            "customer": contact.customer.name
        }
        body = _(
            "%(contact)s (%(email)s) of %(customer)s %(number)s changed the billing data in the "
            "customer portal:\n\n%(changes)s\n\nA follow-up action was created for the account manager.\n"
        ) % {
            "contact": str(contact),
            "email": contact.email,
            "customer": contact.customer.name,
            "number": contact.customer.number,
            "changes": summary,
        }
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[organization.email]
    )
