"""Celery tasks of the folders app: thin, idempotent wrappers around services."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scope

from organizations.models import Organization

from . import services


@shared_task(acks_late=True)
def refresh_contract_ends() -> int:
    """Daily: roll `Folder.contract_end` forward for automatically renewed folders, so
    "contract ends within N days" filters and alerts see the term in force. Safe to run
    any number of times."""
    updated = 0
    for organization in Organization.objects.all():
        with scope(organization=organization):
            updated += services.folders_refresh_contract_ends(organization=organization)
    return updated
