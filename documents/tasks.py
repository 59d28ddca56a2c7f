"""Celery tasks of the documents app: thin, idempotent wrappers that re-enter the scope.

Both run after the issuing (or sending) transaction committed. Rendering twice is
harmless (an existing PDF is kept); e-mails are sent with the stored PDF only.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.mail import EmailMessage
from django_scopes import scope

from organizations.models import Organization
from organizations.timezones import organization_time

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def render_document_pdf(document_id: int, organization_id: int) -> str:
    """Render and store the PDF of an issued document; returns its SHA-256."""
    from documents.models import Document
    from documents.pdf import render_and_store

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        document = Document.objects.filter(pk=document_id).first()
        if document is None:
            # The issuing transaction was rolled back after all; nothing to render.
            return ""
        document = render_and_store(document)
        return document.pdf_sha256


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_document_email(document_id: int, organization_id: int, recipients: list[str]) -> int:
    """E-mail the document's PDF (rendered first if it is still missing)."""
    from documents.mail import build_message
    from documents.models import Document
    from documents.pdf import render_and_store
    from documents.selectors import delivery_proof_for

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        document = Document.objects.get(pk=document_id)
        document = render_and_store(document)
        # A financier's invoice carries the folder's delivery notes as proof of delivery.
        notes = [render_and_store(note) for note in delivery_proof_for(document)]
        message: EmailMessage = build_message(document, recipients, delivery_notes=notes)
        return message.send()


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_delivery_proof_email(
    document_id: int, organization_id: int, recipients: list[str], language: str
) -> int:
    """E-mail a delivery note to the financier as proof of delivery."""
    from documents.mail import build_delivery_proof_message
    from documents.models import Document
    from documents.pdf import render_and_store

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization):
        document = render_and_store(Document.objects.get(pk=document_id))
        return build_delivery_proof_message(document, recipients, language).send()
