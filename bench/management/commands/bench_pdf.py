"""Time the PDF renderer: ``python manage.py bench_pdf [--n 50] [--document ID]``.

Renders a realistic one-page invoice ``n`` times after one warm-up render (fonts,
stylesheet and templates load once per worker process) and prints median and p95 in
milliseconds. With ``--document`` a real frozen document is rendered instead (through
the same mapping the Celery task uses).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scopes_disabled

from bench.samples import benchmark


class Command(BaseCommand):
    help = "Benchmark PDF rendering (median and p95 in ms; target: median < 150 ms)."

    def add_arguments(self, parser):
        parser.add_argument("--n", type=int, default=50, help="number of timed renders (default 50)")
        parser.add_argument(
            "--document", type=int, help="id of an issued document to render instead of the sample"
        )

    def handle(self, *args, n: int, document: int | None, **options):
        if n < 1:
            raise CommandError("--n must be at least 1")
        doc = None
        label = "sample invoice (bench.samples.sample_document)"
        if document is not None:
            from documents.models import Document
            from documents.pdf import to_pdf_document

            with scopes_disabled():
                record = Document.objects.filter(pk=document).first()
                if record is None or record.is_draft:
                    raise CommandError(f"no issued document with id {document}")
                doc = to_pdf_document(record)
                label = f"{record.get_kind_display()} {record.number}"
        result = benchmark(n, doc)
        self.stdout.write(f"Rendered {label} {result['n']} times ({result['bytes']} bytes).")
        self.stdout.write(f"first (cold): {result['first_ms']} ms")
        self.stdout.write(f"median: {result['median_ms']} ms")
        self.stdout.write(f"p95:    {result['p95_ms']} ms")
        self.stdout.write(f"min/max: {result['min_ms']} / {result['max_ms']} ms")
        verdict = "OK" if result["median_ms"] < 150 else "SLOW"
        style = self.style.SUCCESS if verdict == "OK" else self.style.WARNING
        self.stdout.write(style(f"{verdict}: median {'<' if verdict == 'OK' else '>='} 150 ms"))
