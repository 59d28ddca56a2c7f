"""Demo financings: the seed's financed scenarios get their leasing company.

Runs after `folders.demo` (seed_demo calls apps in order). Idempotent: a folder that
already has a financing is left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from customers.models import Customer
from folders.demo import FINANCED
from folders.models import Folder

from . import services
from .models import Financing


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization), transaction.atomic():
        _seed(organization, users=users)


def _seed(organization, *, users: dict) -> None:
    actor = users.get("admin")
    financiers = list(Customer.objects.filter(organization=organization, is_financier=True).order_by("name"))
    if not financiers:
        return
    today = timezone.localdate()
    for name, (index, months, reference, status) in FINANCED.items():
        folder = (
            Folder.objects.filter(organization=organization, name=name).select_related("customer").first()
        )
        if folder is None or Financing.objects.filter(folder=folder).exists():
            continue
        total = sum((line.net_amount for line in folder.oneoff_lines.all()), Decimal("0"))
        # A typical lease factor: about 1.9 % of the financed amount per month over 60 months.
        factor = {36: Decimal("0.0305"), 48: Decimal("0.0238"), 60: Decimal("0.0195")}.get(
            months, Decimal("0.03")
        )
        services.financing_set(
            folder=folder,
            user=actor,
            data={
                "financier": financiers[index % len(financiers)],
                "lease_term_months": months,
                "contract_reference": reference,
                "approval_status": status,
                "approval_status_on": (folder.start_date or today) - dt.timedelta(days=10),
                "monthly_rate": (total * factor).quantize(Decimal("0.01")),
                "residual_value": (total * Decimal("0.05")).quantize(Decimal("0.01"))
                if months < 60
                else None,
                "insurance": status == "approved",
                "insurance_details": "Elektronikversicherung über den Finanzierer"
                if status == "approved"
                else "",
                "notes": "",
            },
        )
