"""Write a sample bank statement (camt.053.001.08) paying an organization's open invoices.

    .venv/bin/python manage.py demo_camt --org nordtek --out kontoauszug.xml

Import the file under Payments > Bank statements: most credits name their invoice and are
booked at once, one pays part, one has no invoice number (review), plus a stranger's
transfer (unmatched) and a bank fee (not a receipt).
"""

from __future__ import annotations

import random

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from demo.payments_ledger import open_invoices, statement_for
from organizations.models import Organization


class Command(BaseCommand):
    help = "Write a sample CAMT.053 statement paying the organization's open invoices."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Organization slug")
        parser.add_argument("--out", required=True, help="File to write")
        parser.add_argument("--count", type=int, default=8, help="How many open invoices it pays")

    def handle(self, *args, org: str, out: str, count: int, **options):
        with scopes_disabled():
            organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"No organization {org!r}.")
        with scope(organization=organization):
            items = open_invoices(organization)[:count]
            if not items:
                raise CommandError("Nothing is open: no statement to write.")
            now = timezone.now()
            data = statement_for(
                organization,
                items,
                rng=random.Random(),
                today=now.date(),
                statement_id=f"DEMO-{now:%Y%m%d%H%M%S}",
            )
        with open(out, "wb") as handle:
            handle.write(data)
        self.stdout.write(f"{out}: {len(items) + 2} entries for {organization.name}")
