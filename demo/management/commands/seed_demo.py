"""Create (or complete) the demo organizations so that every screen has real content.

Idempotent: running it again creates nothing new, also after people worked with the demo
(`make run` runs it on every start). Each app contributes its part through
`demo.<app>.seed(organization, rng=..., users=...)`, called in dependency order; each
keeps the rows it made under fixed demo keys (`demo.records`) and touches nothing else.
Staff and memberships are made with the organization only: whom an admin removed or
whose role they changed stays so.
"""

from __future__ import annotations

import importlib
import importlib.util
import random

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django_scopes import scope

from organizations.models import Membership, Organization
from organizations.roles import Role

APP_SEEDS = [
    "customers",
    "catalog",
    "folders",
    "financing",
    "documents",
    "billing",
    # Collections first (the settled one a few days ago), then the dunning of what is
    # overdue and not collected, then the transfers, which pay only invoices nobody dunned
    # or collected, so a dunning letter is never written for an invoice paid before it and
    # today's dunning proposal has work in it.
    "payments_sepa",
    "payments_dunning",
    "payments_ledger",
    # Portal logins for contacts of customers and a financier that have invoices.
    "portal",
    # Support tickets last: they read the customers' folders and service packages.
    "tickets",
]

DEMO_ORGS = [
    {
        "slug": "nordtek",
        "name": "Nordtek Bürosysteme",
        "legal_name": "Nordtek Bürosysteme GmbH",
        "street": "Speicherstraße 12",
        "postal_code": "20457",
        "city": "Hamburg",
        "email": "buchhaltung@nordtek.example",
        "phone": "+49405550100",
        "website": "https://www.nordtek.example",
        "vat_id": "DE136695976",
        "tax_number": "47/711/02345",
        "register_court": "Amtsgericht Hamburg",
        "register_number": "HRB 154321",
        "managing_directors": "Jana Petersen, Ole Hansen",
        "bank_name": "Hamburger Sparkasse",
        "iban": "DE02200505501015871393",
        "bic": "HASPDEHHXXX",
        "creditor_id": "DE98ZZZ09999999999",
        "color": "#1d4ed8",
    },
    {
        "slug": "suedcom",
        "name": "Südcom Telekommunikation",
        "legal_name": "Südcom Telekommunikation GmbH",
        "street": "Leopoldstraße 88",
        "postal_code": "80802",
        "city": "München",
        "email": "rechnung@suedcom.example",
        "phone": "+49895550200",
        "website": "https://www.suedcom.example",
        "vat_id": "DE129273398",
        "tax_number": "143/555/66778",
        "register_court": "Amtsgericht München",
        "register_number": "HRB 998877",
        "managing_directors": "Dr. Franz Huber",
        "bank_name": "Stadtsparkasse München",
        "iban": "DE72701500000000123456",
        "bic": "SSKMDEMMXXX",
        "creditor_id": "DE98ZZZ09999999999",
        "color": "#047857",
    },
]

DEMO_USERS = [
    ("admin", "Anna", "Admin", Role.ADMIN),
    ("billing", "Bernd", "Buchhaltung", Role.BILLING),
    ("sales", "Sabine", "Vertrieb", Role.SALES),
    ("support", "Stefan", "Service", Role.SUPPORT),
    ("readonly", "Rita", "Revision", Role.READONLY),
]


def _logo_svg(name: str, color: str) -> bytes:
    initials = "".join(word[0] for word in name.split()[:2]).upper()
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="64" viewBox="0 0 240 64">'
        f'<rect x="0" y="4" width="56" height="56" rx="10" fill="{color}"/>'
        f'<text x="28" y="42" font-family="DejaVu Sans, sans-serif" font-size="24" font-weight="bold" '
        f'fill="#fff" text-anchor="middle">{initials}</text>'
        f'<text x="68" y="40" font-family="DejaVu Sans, sans-serif" font-size="20" fill="#1f2937">'
        f"{name.split()[0]}</text></svg>"
    ).encode()


def _demo_user(User, uname: str, role_name: str, first: str, last: str, slug: str, *, create: bool):
    """The demo login `uname`; made (with its demo password) only while its organization
    is made, so a later run does not bring back a user someone deleted."""
    user = User.objects.filter(username=uname).first()
    if user is None and create:
        user = User.objects.create_user(
            username=uname,
            password=f"demo-{role_name}-2026",
            first_name=first,
            last_name=last,
            email=f"{uname}@{slug}.example",
        )
    return user


class Command(BaseCommand):
    help = "Create the demo organizations, users and data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only", choices=[o["slug"] for o in DEMO_ORGS], help="Seed one organization only."
        )

    def handle(self, *args, **options):
        User = get_user_model()
        for index, spec in enumerate(DEMO_ORGS):
            if options["only"] and spec["slug"] != options["only"]:
                continue
            spec = dict(spec)
            color = spec.pop("color")
            with transaction.atomic():
                org, created = Organization.objects.get_or_create(slug=spec["slug"], defaults=spec)
                if created:
                    org.logo.save(f"{org.slug}.svg", ContentFile(_logo_svg(org.name, color)), save=True)
                users = {}
                for username, first, last, role in DEMO_USERS:
                    # The second organization gets its own staff (suffix), the demo admin
                    # belongs to both to show the organization switcher.
                    uname = username if index == 0 else f"{username}.{org.slug}"
                    user = _demo_user(User, uname, username, first, last, org.slug, create=created)
                    if created:
                        Membership.objects.create(organization=org, user=user, role=role)
                    users[role] = user
                admin = _demo_user(User, "admin", "admin", "Anna", "Admin", org.slug, create=created)
                if created and admin != users[Role.ADMIN]:
                    Membership.objects.create(organization=org, user=admin, role=Role.ADMIN)
            rng = random.Random(42 + index)
            with scope(organization=org):
                for app in APP_SEEDS:
                    if importlib.util.find_spec(f"demo.{app}") is None:
                        continue
                    module = importlib.import_module(f"demo.{app}")
                    with transaction.atomic():
                        module.seed(org, rng=rng, users=users)
            verb = "created" if created else "completed"
            self.stdout.write(self.style.SUCCESS(f"Demo organization {org.name} {verb}."))
        self.stdout.write(
            "Log in as admin / demo-admin-2026 (roles: billing, sales, support, readonly: demo-<role>-2026)"
        )
