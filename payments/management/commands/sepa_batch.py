"""Create a SEPA direct-debit batch from the shell (for a scheduled collection).

    manage.py sepa_batch --org nordtek --date 2026-12-10 --out /srv/bank/lastschrift.xml

Takes every invoice that can be collected on the date (as the "new batch" page ticks
them), creates the batch with its validated pain.008.001.08 file and writes the file to
``--out``. Invoices that cannot be collected are listed with the reason; nothing is
written when the organization, the date or every invoice is refused (exit status 1).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_scopes import scope

from organizations.models import Organization
from payments import batches


class Command(BaseCommand):
    help = "Create a SEPA direct-debit batch (pain.008.001.08) for one organization and collection date."

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="Slug of the organization.")
        parser.add_argument("--date", required=True, help="Collection date, YYYY-MM-DD.")
        parser.add_argument("--out", required=True, help="Where to write the XML file.")

    def handle(self, *args, **options):
        try:
            date = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"--date must be a date like 2026-12-10, not {options['date']!r}") from None
        try:
            org = Organization.objects.get(slug=options["org"])
        except Organization.DoesNotExist:
            raise CommandError(f"No organization with the slug {options['org']!r}.") from None
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"The folder {out.parent} does not exist.")
        today = timezone.localdate()
        with scope(organization=org):
            found = batches.candidates(organization=org, collection_date=date)
            for c in found:
                if not c.collectable:
                    self.stderr.write(f"skipped {c.invoice.number} ({c.payer.name}): {c.refusal}")
            ids = [c.invoice.pk for c in found if c.collectable]
            if not ids:
                raise CommandError("Nothing to collect on this date; no file written.")
            try:
                made = batches.batches_create(
                    organization=org, collection_date=date, invoice_ids=ids, user=None, today=today
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            # One file per scheme: the first (CORE) at --out, a B2B file beside it.
            for index, batch in enumerate(made):
                path = out if index == 0 else out.with_name(f"{out.stem}-{batch.scheme.lower()}{out.suffix}")
                with batch.file.open("rb") as handle:
                    path.write_bytes(handle.read())
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Batch #{batch.pk} ({batch.scheme}): {batch.count} collections, {batch.total} EUR, "
                        f"written to {path}"
                    )
                )
