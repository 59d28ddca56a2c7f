"""Celery tasks of the payments app: thin, idempotent, re-entering the tenant scope.

* `mandates_expire_task()` (beat, daily): every organization's mandates unused for 36
  months are marked expired (EPC rulebook). Running it twice changes nothing more.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone
from django_scopes import scope

from organizations.models import Organization


@shared_task(acks_late=True)
def mandates_expire_task() -> int:
    from .mandates import mandates_expire

    today = timezone.localdate()
    expired = 0
    for organization in Organization.objects.order_by("pk"):
        with scope(organization=organization):
            expired += mandates_expire(today=today)
    return expired
