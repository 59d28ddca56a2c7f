"""Celery tasks of the portal: thin wrappers that re-enter the organization's scope and
send one mail. They run after the transaction that asked for them committed."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scope

from organizations.models import Organization
from organizations.timezones import organization_time


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitation(account_id: int, organization_id: int) -> bool:
    """The invitation mail with a fresh link (its lifetime starts when it is sent)."""
    from .mail import invitation_message
    from .models import PortalAccount

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        account = (
            PortalAccount.objects.select_related("contact__customer", "user").filter(pk=account_id).first()
        )
        if account is None or not account.is_open:
            return False  # access was taken away before the mail went out
        invitation_message(account).send()
    return True


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_billing_notice(account_id: int, organization_id: int, summary: str) -> bool:
    from .mail import billing_notice_message
    from .models import PortalAccount

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        account = PortalAccount.objects.select_related("contact__customer").filter(pk=account_id).first()
        message = billing_notice_message(account, summary) if account is not None else None
        if message is None:
            return False
        message.send()
    return True
