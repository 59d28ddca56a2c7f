"""Celery tasks of the documents app: thin, idempotent wrappers that re-enter the scope.

They run after the issuing (or sending) transaction committed. Rendering twice is
harmless (an existing PDF is kept); e-mails are sent with the stored PDF only, each outbox
row at most once.
"""

from __future__ import annotations

import logging

from celery import shared_task
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


# A failed mail is tried again after 1, 2, 4, 8 and 16 minutes, then waits for "send again".
DISPATCH_MAX_RETRIES = 5
DISPATCH_FIRST_BACKOFF_SECONDS = 60


def dispatch_backoff(retries: int) -> int:
    return DISPATCH_FIRST_BACKOFF_SECONDS * 2**retries


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=DISPATCH_MAX_RETRIES)
def send_dispatch(self, dispatch_id: int, organization_id: int) -> str:
    """Send one outbox mail (documents.services.sending.dispatch_deliver: at most once,
    whatever the broker delivers twice). A failure is on the row with its reason; the task
    tries again with exponential backoff while retries are left. Without a broker (eager
    mode) nothing is retried inline: the row waits for "send again"."""
    from documents.services import dispatch_deliver

    organization = Organization.objects.get(pk=organization_id)
    with scope(organization=organization), organization_time(organization):
        status = dispatch_deliver(dispatch_id=dispatch_id)
    if status == "failed" and not self.request.is_eager and self.request.retries < self.max_retries:
        raise self.retry(countdown=dispatch_backoff(self.request.retries))
    return status
