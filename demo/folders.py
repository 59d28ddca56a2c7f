"""Demo folders for the demo customers: leasing deals, telecom, MSP and plenty of
directly billed services (monthly, quarterly, yearly; in advance and in arrears; with
trials and setup fees), plus a billing hold, a suspended, a cancelled and a terminated
folder, and standard installations.

Called by `seed_demo` after customers and catalog, as
``seed(organization, rng=random.Random(42), users=...)``. Each demo customer of the
roster (`demo.customers.ROSTER`) gets the recipes of its fixed place in it, and every
folder and standard installation is kept under a demo key: a second run creates nothing,
also after people converted prospects, edited demo customers or added their own (which
never get demo folders). `demo.financing` then attaches the financiers to the three
financed scenarios below (SCENARIOS).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from catalog.models import Product, ServicePackage
from customers.models import Customer, CustomerKind
from demo.customers import demo_customers
from demo.records import DemoRecords
from folders import services
from folders.models import Folder, FolderTemplate, Timing
from folders.prefill import oneoff_line_prefill, recurring_line_prefill
from organizations.months import first_of_month_after

D = Decimal

# The seed's three financed scenarios: (key, preferred customer, folder name).
SCENARIO_COPIERS = "Leasing Kopierer Hauptverwaltung"
SCENARIO_PBX = "Telefonanlage Hardware (Leasing)"
SCENARIO_SIP = "SIP-Trunk und Rufnummern"
SCENARIO_RACK = "Serverraum-Deployment (Leasing)"
SCENARIO_CUSTOMERS = {
    SCENARIO_COPIERS: "Kanzlei Dr. Hoffmann & Partner",
    SCENARIO_PBX: "Autohaus Schneider GmbH & Co. KG",
    SCENARIO_RACK: "Neumann Medizintechnik AG",
}
# Folder name -> (financier index, lease months, reference, approval status)
FINANCED = {
    SCENARIO_COPIERS: (0, 60, "HL-2026-004711", "approved"),
    SCENARIO_PBX: (1, 48, "RML-88231", "approved"),
    SCENARIO_RACK: (0, 36, "HL-2026-005120", "approved"),
}


def folder_key(customer_name: str, folder_name: str) -> str:
    """The demo key of a folder, by the seed's names of its customer and of itself."""
    return f"folders:folder:{customer_name}/{folder_name}"


def scenario_folders(records: DemoRecords) -> dict[str, Folder]:
    """The financed scenarios' folders that still exist, by folder name."""
    keys = {folder_key(SCENARIO_CUSTOMERS[name], name): name for name in FINANCED}
    return {keys[key]: folder for key, folder in records.get_many(keys, Folder).items()}


SERIAL_PREFIX = {
    "MFP-3554CI": "W8K",
    "MFP-2554CI": "W7R",
    "PRN-M3655": "VCF",
    "PRN-M479": "CNB",
    "PBX-X5": "OSB",
    "PHONE-CP400": "CP4",
    "PHONE-T54W": "805",
    "SW-C1000": "FOC",
    "SRV-R750": "DL",
    "STO-RS3621": "21B0",
    "UPS-SRT3000": "AS2",
    "RACK-42": "TS",
}

TEMPLATES = [
    (
        "Büro-Starterpaket Druck",
        "Ein A3-Farbsystem mit Wartung, zwei Arbeitsplatzdrucker, Lieferung und Einrichtung.",
        [
            ("MFP-2554CI", 1, True),
            ("PRN-M3655", 2, False),
            ("INST-FLAT", 1, False),
            ("INST-H", 2, False),
            ("MPS-Q", 1, False),
        ],
    ),
    (
        "Telefonanlage 10 Arbeitsplätze",
        "IP-Telefonanlage mit zehn Systemtelefonen, vier SIP-Kanälen und Rufnummernblock.",
        [
            ("PBX-X5", 1, True),
            ("PHONE-CP400", 10, False),
            ("SIP-CH", 4, False),
            ("SIP-NR10", 1, False),
            ("INST-H", 4, False),
        ],
    ),
    (
        "Serverraum Basis",
        "Server, Speicher, USV, Switch und Schrank mit Monitoring und Herstellerservice.",
        [
            ("SRV-R750", 1, True),
            ("STO-RS3621", 1, False),
            ("UPS-SRT3000", 1, True),
            ("SW-C1000", 1, False),
            ("RACK-42", 1, False),
            ("MON-SRV", 1, False),
            ("INST-H", 8, False),
        ],
    ),
]


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization), transaction.atomic():
        _Seeder(organization, rng=rng, users=users).run()


class _Seeder:
    def __init__(self, organization, *, rng: random.Random, users: dict):
        self.org = organization
        self.rng = rng
        self.actor = users.get("admin")
        self.owners = [
            u for key, u in users.items() if key in ("sales", "admin", "billing") and u is not None
        ]
        self.today = timezone.localdate()
        self.records = DemoRecords(organization, "folders")
        # The catalog the seed made, by the SKU and code it gave them (people may have
        # renamed them since, or made their own products with those SKUs).
        self.products = {
            key.rsplit(":", 1)[1]: product
            for key, product in self.records.get_many(self.records.keys("catalog:product:"), Product).items()
        }
        self.packages = {
            key.rsplit(":", 1)[1]: package
            for key, package in self.records.get_many(
                self.records.keys("catalog:package:"), ServicePackage
            ).items()
        }
        self.serial_counter = 0
        # Customer pk -> the customer's name in the seed (the part of its folders' keys).
        self.seed_names: dict[int, str] = {}

    # --- helpers -----------------------------------------------------------------------

    def months_ago(self, months: int) -> dt.date:
        return first_of_month_after(self.today, -months)

    def serial(self, sku: str) -> str:
        self.serial_counter += 1
        prefix = SERIAL_PREFIX.get(sku, "SN")
        return f"{prefix}{self.rng.randint(1000, 9999)}{self.serial_counter:04d}"

    def folder(self, customer: Customer | None, name: str, **data) -> Folder | None:
        """The folder to fill; None if the seed made it before (idempotency) or the demo
        customer has been deleted."""
        if customer is None:
            return None
        key = folder_key(self.seed_names[customer.pk], name)
        if not self.records.to_make(
            key, adopt=Folder.objects.filter(organization=self.org, customer=customer, name=name)
        ):
            return None
        data.setdefault("owner", customer.owner or (self.rng.choice(self.owners) if self.owners else None))
        folder = services.folder_create(
            organization=self.org, customer=customer, user=self.actor, data={"name": name, **data}
        )
        self.records.remember(key, folder)
        return folder

    def oneoff(
        self,
        folder: Folder,
        sku: str,
        quantity,
        *,
        serials: bool = True,
        package: bool = False,
        discount=None,
    ):
        product = self.products[sku]
        data = oneoff_line_prefill(product)
        data.update(
            product=product,
            tax_rate=product.tax_rate,
            quantity=D(quantity),
            discount_percent=discount or D("0"),
        )
        line = services.oneoff_line_add(
            folder=folder, user=self.actor, data=data, add_service_package=package
        )
        if line.is_equipment and serials and folder.start_date and folder.start_date <= self.today:
            delivered = folder.start_date
            rows = [
                {"id": piece.pk, "serial_number": self.serial(sku), "delivered_on": delivered}
                for piece in line.equipment.order_by("piece")
            ]
            services.equipment_update(line=line, user=self.actor, rows=rows)
        return line

    def recurring(self, folder: Folder, sku: str, quantity=1, **extra):
        product = self.products[sku]
        data = recurring_line_prefill(product)
        data.update(product=product, service_package=None, tax_rate=product.tax_rate, quantity=D(quantity))
        data["start_date"] = extra.pop("start_date", folder.start_date)
        data.update(extra)
        return services.recurring_line_add(folder=folder, user=self.actor, data=data)

    def package(self, folder: Folder, code: str, quantity=1, **extra):
        package = self.packages[code]
        data = {
            "service_package": package,
            "product": None,
            "description": package.name,
            "quantity": D(quantity),
            "unit": "piece",
            "unit_price": package.price,
            "cycle": package.cycle,
            "tax_rate": package.tax_rate,
            "start_date": folder.start_date,
        }
        data.update(extra)
        return services.recurring_line_add(folder=folder, user=self.actor, data=data)

    def activate(self, folder: Folder) -> Folder:
        return services.folder_activate(folder=folder, user=self.actor)

    # --- data --------------------------------------------------------------------------

    def run(self) -> None:
        if not self.products or not self.packages:
            return  # the catalog demo did not run
        self.templates()
        # The demo customers by their place in the seed's roster - never the current
        # customer list, which grows and changes (converted prospects, new customers).
        roster = demo_customers(self.records)
        self.seed_names = {c.pk: name for name, _kind, _financier, c in roster if c is not None}
        customers = [
            (name, c)
            for name, kind, financier, c in roster
            if kind == CustomerKind.CUSTOMER and not financier
        ]
        by_name = dict(customers)
        self.scenario_copiers(by_name[SCENARIO_CUSTOMERS[SCENARIO_COPIERS]])
        self.scenario_pbx(by_name[SCENARIO_CUSTOMERS[SCENARIO_PBX]])
        self.scenario_rack(by_name[SCENARIO_CUSTOMERS[SCENARIO_RACK]])
        used = set(SCENARIO_CUSTOMERS.values())
        others = [c for name, c in customers if name not in used]
        recipes = [self.print_fleet, self.hosting, self.it_support, self.telephony, self.maintenance_only]
        for index, customer in enumerate(others):
            recipes[index % len(recipes)](customer, index)
            if index % 4 == 1:
                recipes[(index + 2) % len(recipes)](customer, index + 7)
        self.special_states(others)
        prospects = [c for _name, kind, _financier, c in roster if kind == CustomerKind.PROSPECT][:6]
        for index, prospect in enumerate(prospects):
            self.prospect_draft(prospect, index)

    def templates(self) -> None:
        for name, description, items in TEMPLATES:
            key = f"folders:template:{name}"
            if not self.records.to_make(
                key, adopt=FolderTemplate.objects.filter(organization=self.org, name=name)
            ):
                continue
            rows = [
                {"product": self.products[sku], "quantity": D(qty), "include_service_package": with_package}
                for sku, qty, with_package in items
                if sku in self.products
            ]
            template = services.folder_template_create(
                organization=self.org,
                user=self.actor,
                data={"name": name, "description": description, "is_active": True},
                items=rows,
            )
            self.records.remember(key, template)

    def scenario_copiers(self, customer: Customer | None) -> None:
        """(a) Office equipment lease: three copiers with serial numbers, financed."""
        start = self.months_ago(4)
        folder = self.folder(
            customer,
            SCENARIO_COPIERS,
            start_date=start,
            minimum_term_months=60,
            notice_period_months=3,
            notes="Leasing über den Finanzierer, Wartung direkt an den Kunden.",
        )
        if folder is None:
            return
        self.oneoff(folder, "MFP-3554CI", 3, package=True)
        self.oneoff(folder, "INST-FLAT", 1)
        self.oneoff(folder, "INST-H", 3)
        self.activate(folder)

    def scenario_pbx(self, customer: Customer | None) -> None:
        """(b) Telecom: financed PBX hardware, and a second folder with SIP lines billed
        directly to the same customer."""
        start = self.months_ago(7)
        folder = self.folder(
            customer, SCENARIO_PBX, start_date=start, minimum_term_months=48, notice_period_months=3
        )
        if folder is not None:
            self.oneoff(folder, "PBX-X5", 1, package=True)
            self.oneoff(folder, "PHONE-CP400", 12)
            self.oneoff(folder, "SW-C1000", 2)
            self.oneoff(folder, "NET-PORT", 20)
            self.oneoff(folder, "INST-H", 6)
            self.activate(folder)
        sip = self.folder(
            customer,
            SCENARIO_SIP,
            start_date=start,
            minimum_term_months=24,
            notice_period_months=3,
            auto_renew=True,
            renewal_term_months=12,
            auto_renewal_quote=True,
            alert_days_before_end=90,
        )
        if sip is not None:
            trunk = self.recurring(sip, "SIP-CH", 8)
            self.recurring(sip, "SIP-NR10", 2)
            self.activate(sip)
            # Two more channels from last month: a version billing prorates.
            services.recurring_line_change(
                line=trunk,
                user=self.actor,
                effective_from=self.months_ago(1) + dt.timedelta(days=14),
                quantity=D("10"),
                unit_price=trunk.unit_price,
            )

    def scenario_rack(self, customer: Customer | None) -> None:
        """(c) MSP rack deployment: many serial-numbered pieces, financed; managed
        services billed to the customer in the same folder."""
        start = self.months_ago(2)
        folder = self.folder(
            customer,
            SCENARIO_RACK,
            start_date=start,
            minimum_term_months=36,
            notice_period_months=6,
            billing_day=15,
            delivery_name="Neumann Medizintechnik AG – Rechenzentrum",
            delivery_street="Am Mittelfelde 80",
            delivery_postal_code="30519",
            delivery_city="Hannover",
            delivery_country="DE",
        )
        if folder is None:
            return
        self.oneoff(folder, "SRV-R750", 3, package=True)
        self.oneoff(folder, "STO-RS3621", 2)
        self.oneoff(folder, "SW-C1000", 2)
        self.oneoff(folder, "UPS-SRT3000", 2, package=True)
        self.oneoff(folder, "RACK-42", 1)
        self.oneoff(folder, "INST-H", 16)
        self.recurring(folder, "MON-SRV", 3)
        self.recurring(folder, "IT-FLAT", 1, timing=Timing.ARREARS)
        self.activate(folder)

    # Recipes for the other customers -----------------------------------------------------

    def _start(self) -> dt.date:
        return self.months_ago(self.rng.randint(2, 30))

    def print_fleet(self, customer: Customer | None, index: int) -> None:
        folder = self.folder(
            customer,
            "Druckerflotte",
            start_date=self._start(),
            minimum_term_months=36,
            notice_period_months=3,
        )
        if folder is None:
            return
        self.oneoff(folder, self.rng.choice(["MFP-2554CI", "MFP-3554CI"]), 1, package=index % 2 == 0)
        self.oneoff(folder, self.rng.choice(["PRN-M3655", "PRN-M479"]), self.rng.randint(1, 4))
        self.oneoff(folder, "INST-FLAT", 1, discount=D("10") if index % 3 == 0 else D("0"))
        self.recurring(folder, "MPS-Q", 1)
        self.activate(folder)

    def hosting(self, customer: Customer | None, index: int) -> None:
        start = self._start()
        folder = self.folder(
            customer,
            "Hosting und Microsoft 365",
            start_date=start,
            minimum_term_months=12,
            notice_period_months=1,
            auto_renew=True,
        )
        if folder is None:
            return
        self.recurring(folder, "HOST-WEB", 1)
        licences = self.recurring(folder, "M365-BS", self.rng.randint(3, 25))
        self.recurring(folder, "DOMAIN-DE", self.rng.randint(1, 3))
        self.recurring(folder, "BACKUP-1TB", 1, timing=Timing.ARREARS if index % 2 else Timing.ADVANCE)
        self.activate(folder)
        if index % 3 == 0 and start < self.months_ago(2):
            services.recurring_line_change(
                line=licences,
                user=self.actor,
                effective_from=self.months_ago(1),
                quantity=licences.quantity + 2,
                unit_price=licences.unit_price,
            )

    def it_support(self, customer: Customer | None, index: int) -> None:
        start = self._start()
        folder = self.folder(
            customer,
            "IT-Betreuung",
            start_date=start,
            minimum_term_months=24,
            notice_period_months=3,
            auto_renew=True,
        )
        if folder is None:
            return
        self.recurring(folder, "IT-FLAT", 1, timing=Timing.ARREARS)
        trial_end = start + dt.timedelta(days=29) if index % 2 == 0 else None
        self.recurring(folder, "MON-SRV", self.rng.randint(1, 4), trial_end=trial_end)
        self.activate(folder)

    def telephony(self, customer: Customer | None, index: int) -> None:
        folder = self.folder(
            customer,
            "Telefonie",
            start_date=self._start(),
            minimum_term_months=24,
            notice_period_months=3,
            auto_renew=True,
        )
        if folder is None:
            return
        self.oneoff(folder, "PHONE-T54W", self.rng.randint(2, 8))
        self.recurring(folder, "SIP-CH", self.rng.randint(2, 10))
        self.recurring(folder, "SIP-NR10", 1)
        self.activate(folder)

    def maintenance_only(self, customer: Customer | None, index: int) -> None:
        """A service package sold on its own (the devices were bought earlier)."""
        folder = self.folder(
            customer,
            "Wartungsvertrag Bestandsgeräte",
            start_date=self._start(),
            minimum_term_months=12,
            auto_renew=True,
        )
        if folder is None:
            return
        code = ["WART-MFP-BASIS", "SERVICE-TK", "CARE-USV"][index % 3]
        self.package(folder, code, self.rng.randint(1, 3))
        self.recurring(folder, "INS-GERAET", 1)
        self.activate(folder)

    def special_states(self, customers: list[Customer | None]) -> None:
        if len(customers) < 4:
            return
        hold = self.folder(
            customers[0], "Kopierer Empfang", start_date=self.months_ago(10), minimum_term_months=36
        )
        if hold is not None:
            self.oneoff(hold, "MFP-2554CI", 1, package=True)
            hold = self.activate(hold)
            data = {
                "billing_hold": True,
                "billing_hold_reason": "Reklamation Tonerabrechnung offen",
                "billing_hold_until": self.today + dt.timedelta(days=30),
            }
            services.folder_update(folder=hold, user=self.actor, data=data)
        suspended = self.folder(customers[1], "Außenstelle Lager", start_date=self.months_ago(8))
        if suspended is not None:
            self.recurring(suspended, "SIP-CH", 2)
            suspended = self.activate(suspended)
            services.folder_suspend(
                folder=suspended, user=self.actor, reason="Standort vorübergehend geschlossen"
            )
        ended = self.folder(
            customers[2], "Altvertrag Webhosting", start_date=self.months_ago(26), minimum_term_months=12
        )
        if ended is not None:
            self.recurring(ended, "HOST-WEB", 1, end_date=self.months_ago(2) - dt.timedelta(days=1))
            ended = self.activate(ended)
            services.folder_terminate(
                folder=ended, user=self.actor, end_date=self.months_ago(2) - dt.timedelta(days=1)
            )
        cancelled = self.folder(
            customers[3],
            "Managed Print Filiale",
            start_date=self.months_ago(20),
            minimum_term_months=24,
            notice_period_months=3,
        )
        if cancelled is not None:
            self.recurring(cancelled, "MPS-Q", 1)
            cancelled = self.activate(cancelled)
            services.folder_cancel(
                folder=cancelled, user=self.actor, notice_received_on=self.today - dt.timedelta(days=10)
            )
        later = self.folder(
            customers[4 % len(customers)],
            "Netzwerk-Erweiterung 2. OG",
            start_date=self.today + dt.timedelta(days=21),
            next_billing_not_before=self.today + dt.timedelta(days=45),
        )
        if later is not None:
            self.oneoff(later, "SW-C1000", 1)
            self.oneoff(later, "NET-PORT", 12)

    def prospect_draft(self, prospect: Customer | None, index: int) -> None:
        name = ["Angebot Multifunktionssystem", "Angebot Telefonanlage", "Angebot Serverraum"][index % 3]
        folder = self.folder(prospect, name, start_date=self.today + dt.timedelta(days=30))
        if folder is None:
            return
        if index % 3 == 0:
            self.oneoff(folder, "MFP-3554CI", 1)
            self.package(folder, "WART-MFP-PREMIUM", 1)
        elif index % 3 == 1:
            self.oneoff(folder, "PBX-X5", 1)
            self.oneoff(folder, "PHONE-CP400", 8)
            self.recurring(folder, "SIP-CH", 4)
        else:
            self.oneoff(folder, "SRV-R750", 1)
            self.recurring(folder, "MON-SRV", 1)
