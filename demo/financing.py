"""Demo financings: the seed's financed scenarios get their leasing company.

Runs after `demo.folders` (seed_demo calls apps in order). The scenario folders and the
two leasing companies are the ones the seed made (found by their demo keys, whatever
they are called now), and each financing is kept under a demo key: a second run sets
nothing, also when someone removed or changed a demo financing meanwhile.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from customers.models import Customer
from demo.customers import FINANCIERS, customer_key
from demo.folders import FINANCED, scenario_folders
from demo.records import DemoRecords
from financing import services
from financing.models import Financing
from organizations.money import money


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization), transaction.atomic():
        _seed(organization, users=users)


def _seed(organization, *, users: dict) -> None:
    actor = users.get("admin")
    records = DemoRecords(organization, "financing")
    keys = [customer_key(f[0]) for f in FINANCIERS]
    found = records.get_many(keys, Customer)
    financiers = [found.get(key) for key in keys]
    folders = scenario_folders(records)
    today = timezone.localdate()
    for name, (index, months, reference, status) in FINANCED.items():
        key = f"financing:{name}"
        folder = folders.get(name)
        financier = financiers[index % len(financiers)]
        if folder is None or financier is None or not financier.is_financier:
            continue
        if not records.to_make(key, adopt=Financing.objects.filter(folder=folder)):
            continue
        if Financing.objects.filter(folder=folder).exists():
            continue  # someone financed the folder meanwhile: theirs, left alone
        total = sum((line.net_amount for line in folder.oneoff_lines.all()), Decimal("0"))
        # A typical lease factor: about 1.9 % of the financed amount per month over 60 months.
        factor = {36: Decimal("0.0305"), 48: Decimal("0.0238"), 60: Decimal("0.0195")}.get(
            months, Decimal("0.03")
        )
        financing = services.financing_set(
            folder=folder,
            user=actor,
            data={
                "financier": financier,
                "lease_term_months": months,
                "contract_reference": reference,
                "approval_status": status,
                "approval_status_on": (folder.start_date or today) - dt.timedelta(days=10),
                "monthly_rate": money(total * factor),
                "residual_value": money(total * Decimal("0.05")) if months < 60 else None,
                "insurance": status == "approved",
                "insurance_details": "Elektronikversicherung über den Finanzierer"
                if status == "approved"
                else "",
                "notes": "",
            },
        )
        records.remember(key, financing)
