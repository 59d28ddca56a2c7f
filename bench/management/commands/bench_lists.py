"""Time the folder and customer list pages with many folders.

    .venv/bin/python manage.py bench_lists --folders 100000
    DATABASE_URL=postgres://... .venv/bin/python manage.py bench_lists --folders 100000

Creates a throwaway organization with N folders (bulk_create, so seeding 100,000 takes
seconds, not hours), requests each list page through Django's test client - the full
stack: middleware, scope, filters, tables2, templates - and prints the median time and
the number of queries per page. The organization is deleted afterwards unless --keep.

Every filter, search and sortable column of both lists is timed (see `_pages`), so a
change that only helps the default page shows up as such. Iterating on one page:
`--keep` once, then `--reuse <slug> --only "sort by"` measures without seeding again.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from customers.models import Action, Contact, Customer, CustomerKind, PaymentMethod
from folders.models import Folder, FolderStatus
from organizations.models import AuditEntry, Membership, NumberSequence, Organization
from organizations.roles import Role

BATCH = 5000
STATUSES = [FolderStatus.ACTIVE] * 7 + [FolderStatus.DRAFT, FolderStatus.SUSPENDED, FolderStatus.TERMINATED]
FINANCIERS = [
    "Bench Leasing AG",
    "Nordleasing GmbH",
    "Rheinland Mietkauf GmbH",
    "Süd Finanz AG",
    "Alpha Leasing KG",
]
MANAGERS = [("Anna", "Schmidt"), ("Jonas", "Weber"), ("Lea", "Fischer"), ("Paul", "Becker"), ("", "")]
LAST_NAMES = [
    "Müller",
    "Schneider",
    "Wagner",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
]
CITIES = [
    ("20095", "Hamburg"),
    ("10115", "Berlin"),
    ("80331", "München"),
    ("50667", "Köln"),
    ("60311", "Frankfurt"),
]


class Command(BaseCommand):
    help = "Create N folders in a throwaway organization and time the folder and customer list pages."

    def add_arguments(self, parser):
        parser.add_argument("--folders", type=int, default=100_000)
        parser.add_argument("--customers", type=int, default=None, help="Default: one per five folders.")
        parser.add_argument("--runs", type=int, default=7, help="Requests per page (the median is printed).")
        parser.add_argument("--keep", action="store_true", help="Keep the organization (slug printed).")
        parser.add_argument(
            "--reuse", metavar="SLUG", help="Measure a benchmark organization kept earlier (no seeding)."
        )
        parser.add_argument(
            "--only", action="append", default=[], help="Only pages whose label contains this (repeatable)."
        )
        parser.add_argument(
            "--no-vacuum",
            action="store_true",
            help="PostgreSQL: only ANALYZE after seeding instead of VACUUM ANALYZE (see below).",
        )

    def handle(self, *args, **options):
        self.stdout.write(f"Database: {connection.vendor}")
        if options["reuse"]:
            org = Organization.objects.filter(slug=options["reuse"]).first()
            if org is None or not org.slug.startswith("bench-"):
                raise CommandError(f"No benchmark organization {options['reuse']!r}.")
            user = get_user_model().objects.get(username=f"{org.slug}-admin")
            self._measure(org, user, options["runs"], options["only"])
            return
        n_folders = options["folders"]
        n_customers = options["customers"] or max(1, n_folders // 5)
        slug = f"bench-{uuid.uuid4().hex[:8]}"
        self.stdout.write(f"Organization {slug}")
        started = time.perf_counter()
        org, user = self._seed(slug, n_folders, n_customers)
        self.stdout.write(
            f"Seeded {n_folders} folders, {n_customers} customers in {time.perf_counter() - started:.1f} s"
        )
        if connection.vendor == "postgresql":
            # A live database has planner statistics and a visibility map (autovacuum also
            # vacuums after inserts since PostgreSQL 13). Fresh bulk inserts have neither
            # until autovacuum runs: timing them would time the planner's guesses and heap
            # visits that index-only scans (counts) do not need on a live database.
            # --no-vacuum times that just-loaded state (so does a run inside a transaction,
            # as in the tests: VACUUM cannot run there).
            vacuum = not options["no_vacuum"] and not connection.in_atomic_block
            tables = (
                "folders_folder, customers_customer, customers_contact, customers_action, financing_financing"
            )
            with connection.cursor() as cursor:
                cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {tables}")
        try:
            self._measure(org, user, options["runs"], options["only"])
        finally:
            if not options["keep"]:
                self._cleanup(org)
            else:
                self.stdout.write(f"Kept organization {slug} (log in as {user.username}).")

    # --- seeding ------------------------------------------------------------------------

    def _seed(self, slug: str, n_folders: int, n_customers: int):
        User = get_user_model()
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=f"Benchmark {slug}")
            user = User.objects.create_user(username=f"{slug}-admin", password=uuid.uuid4().hex)
            Membership.objects.create(organization=org, user=user, role=Role.ADMIN)
            managers = [user]
            for i, (first, last) in enumerate(MANAGERS):
                manager = User.objects.create_user(
                    username=f"{slug}-user{i}", first_name=first, last_name=last, password=uuid.uuid4().hex
                )
                Membership.objects.create(organization=org, user=manager, role=Role.SALES)
                managers.append(manager)
        today = timezone.localdate()
        with scope(organization=org):
            financiers = [
                Customer.objects.create(
                    organization=org, number=f"F{i + 1:06d}", name=name, is_financier=True, city="Hamburg"
                )
                for i, name in enumerate(FINANCIERS)
            ]
            for start in range(0, n_customers, BATCH):
                Customer.objects.bulk_create(
                    [
                        Customer(
                            organization=org,
                            number=f"K{i + 1:07d}",
                            kind=CustomerKind.PROSPECT if i % 9 == 0 else CustomerKind.CUSTOMER,
                            name=f"Kunde {i + 1:07d} GmbH",
                            postal_code=CITIES[i % len(CITIES)][0],
                            city=CITIES[i % len(CITIES)][1],
                            email=f"info@kunde{i + 1}.example" if i % 3 else "",
                            phone=f"040 {100000 + i}" if i % 2 else "",
                            payment_method=PaymentMethod.DIRECT_DEBIT
                            if i % 4 == 0
                            else PaymentMethod.BANK_TRANSFER,
                            owner=managers[i % len(managers)] if i % 7 else None,
                        )
                        for i in range(start, min(start + BATCH, n_customers))
                    ]
                )
            customer_ids = list(
                Customer.objects.filter(organization=org, is_financier=False)
                .order_by("id")
                .values_list("id", flat=True)
            )
            # One contact per customer, an action for every fourth (some overdue, some done).
            for start in range(0, len(customer_ids), BATCH):
                chunk = list(enumerate(customer_ids[start : start + BATCH], start))
                Contact.objects.bulk_create(
                    [
                        Contact(
                            organization=org,
                            customer_id=customer_id,
                            first_name="Max",
                            last_name=LAST_NAMES[i % len(LAST_NAMES)],
                            email=f"max.{LAST_NAMES[i % len(LAST_NAMES)].lower()}{i}@kunde{i + 1}.example",
                        )
                        for i, customer_id in chunk
                    ]
                )
                Action.objects.bulk_create(
                    [
                        Action(
                            organization=org,
                            customer_id=customer_id,
                            due_on=today + dt.timedelta(days=(i % 60) - 20),
                            assignee=managers[i % len(managers)],
                            description="Nachfassen",
                            done_at=timezone.now() if i % 3 == 0 else None,
                        )
                        for i, customer_id in chunk
                        if i % 4 == 0
                    ]
                )
            for start in range(0, n_folders, BATCH):
                Folder.objects.bulk_create(
                    [
                        Folder(
                            organization=org,
                            customer_id=customer_ids[i % len(customer_ids)],
                            number=f"O{i + 1:07d}",
                            name=f"Ordner {i + 1}",
                            status=STATUSES[i % len(STATUSES)],
                            start_date=today - dt.timedelta(days=i % 900),
                            minimum_term_months=24,
                            notice_period_months=3,
                            contract_end=today + dt.timedelta(days=(i * 7) % 730),
                            billing_hold=i % 50 == 0,
                            billing_hold_reason="Bench" if i % 50 == 0 else "",
                            owner=managers[i % len(managers)] if i % 11 else None,
                        )
                        for i in range(start, min(start + BATCH, n_folders))
                    ]
                )
            # Every tenth folder is financed (third-party payer).
            from financing.models import Financing

            financed = (
                Folder.objects.filter(organization=org).order_by("id").values_list("id", flat=True)[::10]
            )
            rows = [
                Financing(
                    organization=org,
                    folder_id=folder_id,
                    financier=financiers[i % len(financiers)],
                    lease_term_months=60,
                    monthly_rate=Decimal("199.00"),
                )
                for i, folder_id in enumerate(financed)
            ]
            for start in range(0, len(rows), BATCH):
                Financing.objects.bulk_create(rows[start : start + BATCH])
        return org, user

    # --- measuring ----------------------------------------------------------------------

    def _pages(self, org) -> list[tuple[str, str, dict]]:
        with scope(organization=org):
            financier = Customer.objects.filter(is_financier=True).order_by("id").first()
            customer = Customer.objects.filter(is_financier=False).order_by("id").first()
            last_folder_page = max(1, (Folder.objects.count() + 24) // 25)
            last_customer_page = max(
                1, (Customer.objects.filter(kind=CustomerKind.CUSTOMER).count() + 24) // 25
            )
        folders = [
            ("first page", {}),
            ("page 500", {"page": 500}),
            ("last page", {"page": last_folder_page}),
            ("100 per page", {"per_page": 100}),
            ("status active", {"status": "active"}),
            ("status terminated", {"status": "terminated"}),
            ("third-party payer", {"third_party": "1"}),
            ("no third-party payer", {"third_party": "0"}),
            ("financier", {"financier": financier.pk if financier else ""}),
            ("customer", {"customer": customer.pk if customer else ""}),
            ("billing hold", {"hold": "1"}),
            ("no billing hold", {"hold": "0"}),
            ("ending within 30 days", {"ending": "30"}),
            ("ending within 90 days", {"ending": "90"}),
            ("ending within 12 months", {"ending": "365"}),
            ("search customer name", {"q": "Kunde 00123"}),
            ("search customer number", {"q": "K0000123"}),
            ("search folder number", {"q": "O0012345"}),
            ("search part of number", {"q": "12345"}),
            ("search folder name", {"q": "Ordner 4711"}),
            ("search everything (Kunde)", {"q": "Kunde"}),
            ("search two characters", {"q": "12"}),
            ("search nothing found", {"q": "xyzzy"}),
        ]
        for column in [
            "number",
            "name",
            "customer",
            "status",
            "financier",
            "start_date",
            "contract_end",
            "owner",
        ]:
            folders.append((f"sort by {column}", {"sort": column}))
            folders.append((f"sort by -{column}", {"sort": f"-{column}"}))
        folders += [
            ("sort by customer, page 500", {"sort": "customer", "page": 500}),
            ("active, sort by customer", {"status": "active", "sort": "customer"}),
            ("third-party, sort by financier", {"third_party": "1", "sort": "financier"}),
            ("search, sort by -contract_end", {"q": "Kunde 00123", "sort": "-contract_end"}),
        ]
        customers = [
            ("first page", {}),
            ("page 100", {"page": 100}),
            ("last page", {"page": last_customer_page}),
            ("100 per page", {"per_page": 100}),
            ("search", {"q": "Kunde 00042"}),
            ("search number", {"q": "K0000042"}),
            ("search contact name", {"q": "Hoffmann"}),
            ("search e-mail", {"q": "kunde4711.example"}),
            ("search city (broad)", {"q": "Hamburg"}),
            ("search two characters", {"q": "42"}),
            ("all kinds", {"kind": ""}),
            ("financiers", {"financier": "yes"}),
            ("city filter", {"city": "Köln"}),
            ("e-mail filter", {"email": "kunde42"}),
            ("direct debit", {"payment_method": PaymentMethod.DIRECT_DEBIT}),
        ]
        for column in ["number", "name", "city", "email", "payment_method", "owner", "open_actions"]:
            customers.append((f"sort by {column}", {"sort": column}))
            customers.append((f"sort by -{column}", {"sort": f"-{column}"}))
        return (
            [(f"folders: {label}", "folders:list", params) for label, params in folders]
            + [(f"customers: {label}", "customers:list", params) for label, params in customers]
            + [
                ("prospects: first page", "customers:prospects", {}),
                ("prospects: search", "customers:prospects", {"q": "Kunde 00100"}),
            ]
        )

    def _measure(self, org, user, runs: int, only: list[str]) -> None:
        client = Client()
        client.force_login(user)
        pages = [page for page in self._pages(org) if not only or any(o in page[0] for o in only)]
        summary = []
        with override_settings(ALLOWED_HOSTS=["*"], DEBUG=False):
            client.get("/")  # stores the active organization in the session
            self.stdout.write(f"{'page':<44} {'median ms':>10} {'min ms':>8} {'queries':>8}  status")
            for label, name, params in pages:
                try:
                    url = reverse(name)
                except NoReverseMatch:
                    self.stdout.write(f"{label:<44} {'(no such page)':>10}")
                    continue
                client.get(url, params)  # warm-up (template loading, first-use imports)
                timings = []
                status = None
                for _ in range(runs):
                    begin = time.perf_counter()
                    response = client.get(url, params)
                    timings.append((time.perf_counter() - begin) * 1000)
                    status = response.status_code
                with CaptureQueriesContext(connection) as queries:
                    client.get(url, params)
                median = statistics.median(timings)
                summary.append(median)
                self.stdout.write(
                    f"{label:<44} {median:>10.1f} {min(timings):>8.1f} {len(queries):>8}  {status}"
                )
        if summary:
            self.stdout.write(
                f"{len(summary)} pages: slowest median {max(summary):.1f} ms, "
                f"median of medians {statistics.median(summary):.1f} ms"
            )

    def _cleanup(self, org) -> None:
        from financing.models import Financing

        begin = time.perf_counter()
        users = list(get_user_model().objects.filter(username__startswith=f"{org.slug}-"))
        with scopes_disabled(), transaction.atomic():
            Financing.objects.filter(organization=org).delete()
            Folder.objects.filter(organization=org).delete()
            Action.objects.filter(organization=org).delete()
            Contact.objects.filter(organization=org).delete()
            Customer.objects.filter(organization=org).delete()
            AuditEntry.objects.filter(organization=org).delete()
            NumberSequence.objects.filter(organization=org).delete()
            org.delete()
            for user in users:
                user.delete()
        self.stdout.write(f"Removed the benchmark organization in {time.perf_counter() - begin:.1f} s")
