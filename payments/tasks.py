"""Celery tasks of the payments app: thin, idempotent, re-entering the tenant scope.

* `mandates_expire_task()` (beat, daily): every organization's mandates unused for 36
  months are marked expired (EPC rulebook). Running it twice changes nothing more.
* `statement_book_task(statement_id, organization_id)`: books an uploaded bank statement
  (queued by the upload page after commit). Delivered twice, it books once: the second
  finds the statement done. When it fails, the statement page shows "failed" with the
  reason and offers to start it again; nothing of it was booked.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from django_scopes import scope

from organizations.models import Organization
from organizations.timezones import organization_time


@shared_task(acks_late=True)
def mandates_expire_task() -> int:
    from .mandates import mandates_expire

    today = timezone.localdate()
    expired = 0
    for organization in Organization.objects.order_by("pk"):
        with scope(organization=organization):
            expired += mandates_expire(today=today)
    return expired


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_payment_email(payment_id: int, organization_id: int) -> int:
    """Tell the payer that a payment arrived and what it paid; nothing when the payment is
    gone, the switch is off or the payer has no e-mail address."""
    from customers.selectors import invoice_recipient_emails
    from payments.mail import build_message
    from payments.models import Payment
    from payments.selectors import customer_balance
    from payments.services import payment_mail_settings

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        payment = Payment.objects.select_related("payer").filter(pk=payment_id).first()
        settings = payment_mail_settings(organization)
        if payment is None or not settings.enabled:
            return 0
        recipients = invoice_recipient_emails(customer=payment.payer)
        if not recipients:
            return 0
        numbers = [
            a.document.number if a.document_id else a.charge.text
            for a in payment.allocations.select_related("document", "charge").order_by("id")
        ]
        message = build_message(
            mail_settings=settings,
            language=payment.payer.language,
            recipients=recipients,
            amount=payment.amount,
            date=payment.date,
            numbers=numbers,
            open_amount=customer_balance(payment.payer, today=payment.date),
            payer_name=payment.payer.name,
            organization_name=organization.display_legal_name,
            reply_to=organization.email,
        )
        return message.send()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_payment_emails(payment_ids: list[int], organization_id: int) -> int:
    """The payment e-mails of a whole bank statement, one after the other."""
    return sum(send_payment_email(pk, organization_id) for pk in payment_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def statement_book_task(statement_id: int, organization_id: int) -> str:
    from django.core.exceptions import ValidationError

    from payments.models import BankStatement
    from payments.statements import statement_book

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        statement = BankStatement.objects.defer("content").filter(pk=statement_id).first()
        if statement is None:
            return "gone"
        try:
            statement_book(statement=statement, user=statement.created_by, today=timezone.localdate())
        except ValidationError:
            # The reason is on the statement; a bad file does not get better by retrying.
            return "failed"
        return "done"
