"""The daily contract-lifecycle check: contract-end and notice-deadline alerts, with a
draft renewal quote where the folder asks for one.

Contract alerts (actions and renewal quotes) are raised by a daily check
(`contract_alerts_create`, from the daily beat task), not by the monthly run, so a
notice deadline mid-month is not noticed two weeks late.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation

from customers import services as customer_services
from documents import services as document_services
from documents import texts as doc_texts
from documents.models import DocumentKind
from folders.models import Folder, FolderStatus
from organizations.models import Membership
from organizations.system_texts import render_text, system_text

from . import system_texts as _system_texts  # noqa: F401 - registers the codes used below
from .models import AlertKind, ContractAlert

logger = logging.getLogger(__name__)

# Days before a term end / notice deadline an action is raised, unless the folder says.
DEFAULT_ALERT_DAYS = 90


def _assignee(folder: Folder):
    for user in (folder.owner, folder.customer.owner):
        if (
            user is not None
            and Membership.objects.filter(organization_id=folder.organization_id, user=user).exists()
        ):
            return user
    return None


def _events(folder: Folder, today: dt.date) -> list[tuple[str, dt.date]]:
    days = folder.alert_days_before_end if folder.alert_days_before_end is not None else DEFAULT_ALERT_DAYS
    horizon = today + dt.timedelta(days=days)
    events = []
    end = folder.compute_contract_end(today)
    if end is not None and today <= end <= horizon:
        events.append((AlertKind.TERM_END, end))
    deadline = folder.notice_deadline_on(today)
    if deadline is not None and today <= deadline <= horizon:
        events.append((AlertKind.NOTICE_DEADLINE, deadline))
    return events


def _alert_text(folder: Folder, kind: str, day: dt.date, today: dt.date, quote) -> dict:
    """The alert as a system text (billing.system_texts renders it in the reader's language)."""
    if kind == AlertKind.NOTICE_DEADLINE:
        variant, end = "notice_deadline", folder.term_end_on(today)
    else:
        variant = "contract_ends" if folder.end_date else "term_renews" if folder.auto_renew else "term_ends"
        end = None
    return system_text(
        "billing.contract_alert",
        kind=variant,
        folder=f"{folder.number} {folder.name}",
        date=day,
        end=end,
        quote=quote is not None,
    )


def _renewal_quote(folder: Folder, today: dt.date, term_end: dt.date):
    """A draft quote (no number) for the end customer: the folder's recurring services
    for the next term, via the documents services."""
    lines = [
        line
        for line in folder.recurring_lines.select_related("tax_rate", "product").order_by("position", "id")
        if line.end_date is None or line.end_date > term_end
    ]
    if not lines:
        return None
    customer = folder.customer
    language = doc_texts.lang_of(customer.language)
    specs = [document_services.recurring_spec(line, language, "") for line in lines]
    renewal_start = term_end + dt.timedelta(days=1)
    months = folder.renewal_term_months or min(folder.minimum_term_months or 12, 12)
    terms = (
        f"Verlängerung um {months} Monate ab {doc_texts.date(language, renewal_start)}."
        if language == "de"
        else f"Renewal for {months} months from {doc_texts.date(language, renewal_start)}."
    )
    return document_services.document_draft_create(
        organization=folder.organization,
        kind=DocumentKind.QUOTE,
        user=None,
        customer=customer,
        payer=customer,
        lines=specs,
        folder=folder,
        valid_until=max(today + dt.timedelta(days=document_services.DEFAULT_QUOTE_VALIDITY_DAYS), today),
        terms_text=terms,
    )


def contract_alerts_create(*, organization, today: dt.date | None = None) -> list[ContractAlert]:
    """Raise the contract-end and notice-deadline alerts due today (daily, idempotent).

    For each active folder whose term ends, or whose notice deadline passes, within its
    alert days (default 90): an action for the folder's account manager (the customer's
    when the folder has none), listed in the action calendar on the event day; with
    "renewal quote" on, a draft renewal quote for the end customer at the term end.
    Each alert is raised once per folder, kind and date (ContractAlert, and the action's
    `source`); a renewed term has a new date and raises a new alert.
    """
    today = today or timezone.localdate()
    created: list[ContractAlert] = []
    folders = (
        Folder.objects.filter(
            organization=organization, status__in=[FolderStatus.ACTIVE, FolderStatus.SUSPENDED]
        )
        .filter(start_date__isnull=False)
        .filter(Q(minimum_term_months__gt=0) | Q(end_date__isnull=False))
        .select_related("customer__owner", "owner")
    )
    raised = set(
        ContractAlert.objects.filter(organization=organization, event_date__gte=today).values_list(
            "folder_id", "kind", "event_date"
        )
    )
    with translation.override(settings.LANGUAGE_CODE):
        for folder in folders.iterator(chunk_size=2000):
            folder.organization = organization
            for kind, day in _events(folder, today):
                if (folder.pk, kind, day) in raised:
                    continue
                try:
                    with transaction.atomic():
                        quote = None
                        if kind == AlertKind.TERM_END and folder.auto_renewal_quote and not folder.end_date:
                            quote = _renewal_quote(folder, today, day)
                        text = _alert_text(folder, kind, day, today, quote)
                        action = customer_services.action_create(
                            customer=folder.customer,
                            user=None,
                            due_on=day,
                            description=render_text(text),
                            system_text=text,
                            assignee=_assignee(folder),
                            source=f"billing:{kind}:{folder.pk}:{day.isoformat()}",
                        )
                        created.append(
                            ContractAlert.objects.create(
                                organization=organization,
                                folder=folder,
                                kind=kind,
                                event_date=day,
                                action=action,
                                quote=quote,
                            )
                        )
                except (ValidationError, IntegrityError):
                    logger.exception("contract alert for folder %s could not be raised", folder.pk)
    return created
