"""Demo catalog of a German office-equipment dealer, telecom operator and MSP.

Called by `seed_demo` as ``seed(organization, rng=random.Random(42), users=...)``.
Idempotent: every tax rate, package and product is kept under a demo key (by the name,
code or SKU the seed gave it), so a second run creates nothing, also after people
renamed, changed or deleted them.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import transaction
from django_scopes import scope

from catalog import services
from catalog.models import (
    Coverage,
    Cycle,
    EntitlementKind,
    Product,
    ProductKind,
    Scope,
    ServicePackage,
    TaxRate,
    Unit,
)
from demo.records import DemoRecords

D = Decimal

TAX_RATES = [
    # name, rate, default
    ("19 % USt", D("19.00"), True),
    ("7 % USt", D("7.00"), False),
    ("0 % (steuerfrei)", D("0.00"), False),
]

# code, name, description, price, cycle, entitlements:
#   (kind, coverage, discount %, response hours, scope, service partner)
PACKAGES = [
    (
        "WART-MFP-BASIS",
        "Wartungsvertrag Multifunktionssystem Basis",
        "Wartung und Reparatur vor Ort zu Geschäftszeiten, Verschleißteile zum Vorzugspreis.",
        D("29.00"),
        Cycle.MONTHLY,
        [
            (EntitlementKind.LABOUR, Coverage.INCLUDED, None, 8, Scope.PER_DEVICE, ""),
            (EntitlementKind.TRAVEL, Coverage.INCLUDED, None, None, Scope.PER_DEVICE, ""),
            (EntitlementKind.SPARE_PARTS, Coverage.DISCOUNTED, D("20"), None, Scope.PER_DEVICE, ""),
            (EntitlementKind.HOTLINE, Coverage.INCLUDED, None, 4, Scope.PER_CUSTOMER, ""),
        ],
    ),
    (
        "WART-MFP-PREMIUM",
        "Wartungsvertrag Multifunktionssystem Premium",
        "Alles inklusive: Arbeitszeit, Anfahrt, Ersatzteile und Ersatzgerät binnen 24 Stunden.",
        D("49.00"),
        Cycle.MONTHLY,
        [
            (EntitlementKind.LABOUR, Coverage.INCLUDED, None, 4, Scope.PER_DEVICE, ""),
            (EntitlementKind.TRAVEL, Coverage.INCLUDED, None, None, Scope.PER_DEVICE, ""),
            (EntitlementKind.SPARE_PARTS, Coverage.INCLUDED, None, None, Scope.PER_DEVICE, ""),
            (EntitlementKind.REPLACEMENT, Coverage.INCLUDED, None, 24, Scope.PER_DEVICE, ""),
            (EntitlementKind.HOTLINE, Coverage.INCLUDED, None, 2, Scope.PER_CUSTOMER, ""),
        ],
    ),
    (
        "SERVICE-TK",
        "Servicevertrag Telefonanlage",
        "Hotline und Störungsbeseitigung für die Telefonanlage, Ersatzteile geräteübergreifend.",
        D("79.00"),
        Cycle.MONTHLY,
        [
            (EntitlementKind.HOTLINE, Coverage.INCLUDED, None, 4, Scope.PER_CUSTOMER, ""),
            (EntitlementKind.LABOUR, Coverage.DISCOUNTED, D("30"), 8, Scope.ACROSS_DEVICES, ""),
            (EntitlementKind.TRAVEL, Coverage.BILLABLE, None, None, Scope.PER_CUSTOMER, ""),
            (
                EntitlementKind.SPARE_PARTS,
                Coverage.INCLUDED,
                None,
                None,
                Scope.ACROSS_DEVICES,
                "Unify Service Deutschland GmbH",
            ),
        ],
    ),
    (
        "CARE-SERVER",
        "Managed Server Care",
        "Hardwareservice mit Vor-Ort-Austausch in 4 Stunden über den Herstellerservice.",
        D("390.00"),
        Cycle.QUARTERLY,
        [
            (
                EntitlementKind.LABOUR,
                Coverage.INCLUDED,
                None,
                4,
                Scope.PER_DEVICE,
                "Dell Technologies ProSupport",
            ),
            (
                EntitlementKind.SPARE_PARTS,
                Coverage.INCLUDED,
                None,
                4,
                Scope.PER_DEVICE,
                "Dell Technologies ProSupport",
            ),
            (EntitlementKind.REPLACEMENT, Coverage.INCLUDED, None, 4, Scope.PER_DEVICE, ""),
            (EntitlementKind.HOTLINE, Coverage.INCLUDED, None, 1, Scope.PER_CUSTOMER, ""),
        ],
    ),
    (
        "CARE-USV",
        "USV-Wartung mit Batterietausch",
        "Jährliche Inspektion, Batterietausch inklusive Versand; Arbeitszeit nach Aufwand.",
        D("180.00"),
        Cycle.YEARLY,
        [
            (
                EntitlementKind.SPARE_PARTS,
                Coverage.INCLUDED,
                None,
                None,
                Scope.PER_DEVICE,
                "APC by Schneider Electric",
            ),
            (EntitlementKind.SHIPPING, Coverage.INCLUDED, None, None, Scope.PER_DEVICE, ""),
            (EntitlementKind.LABOUR, Coverage.BILLABLE, None, 24, Scope.PER_DEVICE, ""),
        ],
    ),
]

# sku, name, description, kind, unit, price, cycle, setup fee, tax rate, equipment,
# model number, warranty months, package code
PRODUCTS = [
    ("MFP-3554CI", "Kyocera TASKalfa 3554ci", "A3-Farbmultifunktionssystem, 35 Seiten/min, Finisher", "one_off", Unit.PIECE, D("6490.00"), None, D("0"), "19 % USt", True, "TASKalfa 3554ci", 24, "WART-MFP-PREMIUM"),
    ("MFP-2554CI", "Kyocera TASKalfa 2554ci", "A3-Farbmultifunktionssystem, 25 Seiten/min", "one_off", Unit.PIECE, D("4290.00"), None, D("0"), "19 % USt", True, "TASKalfa 2554ci", 24, "WART-MFP-BASIS"),
    ("PRN-M3655", "Kyocera ECOSYS M3655idn", "A4-S/W-Multifunktionsdrucker, 55 Seiten/min", "one_off", Unit.PIECE, D("890.00"), None, D("0"), "19 % USt", True, "ECOSYS M3655idn", 12, "WART-MFP-BASIS"),
    ("PRN-M479", "HP Color LaserJet Pro MFP M479fdw", "A4-Farblaser-Multifunktionsgerät mit WLAN", "one_off", Unit.PIECE, D("649.00"), None, D("0"), "19 % USt", True, "W1A80A", 12, ""),
    ("PBX-X5", "Unify OpenScape Business X5", "IP-Telefonanlage für bis zu 500 Teilnehmer, inkl. Grundlizenz", "one_off", Unit.PIECE, D("3480.00"), None, D("0"), "19 % USt", True, "OSBiz X5R", 24, "SERVICE-TK"),
    ("PHONE-CP400", "Unify OpenScape Desk Phone CP400", "IP-Systemtelefon mit Farbdisplay", "one_off", Unit.PIECE, D("289.00"), None, D("0"), "19 % USt", True, "CP400 L30250-F600-C435", 24, ""),
    ("PHONE-T54W", "Yealink SIP-T54W", "SIP-Telefon mit 4,3\"-Farbdisplay, Bluetooth und WLAN", "one_off", Unit.PIECE, D("219.00"), None, D("0"), "19 % USt", True, "SIP-T54W", 24, ""),
    ("SW-C1000", "Cisco Catalyst C1000-24P", "24-Port-PoE+-Switch, 4 × 1G SFP", "one_off", Unit.PIECE, D("1190.00"), None, D("0"), "19 % USt", True, "C1000-24P-4G-L", 12, ""),
    ("SRV-R750", "Dell PowerEdge R750", "2-HE-Rackserver, 2 × Xeon Silver, 256 GB RAM", "one_off", Unit.PIECE, D("9850.00"), None, D("0"), "19 % USt", True, "PowerEdge R750", 36, "CARE-SERVER"),
    ("STO-RS3621", "Synology RackStation RS3621xs+", "12-Bay-Rack-NAS für Backup und Dateiablage", "one_off", Unit.PIECE, D("4390.00"), None, D("0"), "19 % USt", True, "RS3621xs+", 24, ""),
    ("UPS-SRT3000", "APC Smart-UPS SRT 3000VA RM", "Online-USV, 2 HE, mit Netzwerkkarte", "one_off", Unit.PIECE, D("2150.00"), None, D("0"), "19 % USt", True, "SRT3000RMXLI-NC", 24, "CARE-USV"),
    ("RACK-42", "Serverschrank 42 HE", "800 × 1000 mm, mit Glastür und Lüftereinheit", "one_off", Unit.PIECE, D("890.00"), None, D("0"), "19 % USt", True, "TS IT 42U", 24, ""),
    ("INST-H", "Installation und Einrichtung", "Techniker vor Ort, je angefangene Stunde", "one_off", Unit.HOUR, D("95.00"), None, D("0"), "19 % USt", False, "", None, ""),
    ("INST-FLAT", "Lieferung und Aufstellung", "Anlieferung, Aufstellung, Einweisung pauschal", "one_off", Unit.FLAT, D("149.00"), None, D("0"), "19 % USt", False, "", None, ""),
    ("NET-PORT", "Netzwerkverkabelung je Anschluss", "Cat.-7-Verlegekabel, Dose und Patchfeldport", "one_off", Unit.PIECE, D("85.00"), None, D("0"), "19 % USt", False, "", None, ""),
    ("BOOK-DSGVO", "Praxishandbuch Datenschutz im Büro", "Fachbuch, 3. Auflage", "one_off", Unit.PIECE, D("39.90"), None, D("0"), "7 % USt", False, "", None, ""),
    ("SIP-CH", "SIP-Trunk Sprachkanal", "Gleichzeitiger Sprachkanal inkl. Flatrate Festnetz Deutschland", "recurring", Unit.LINE, D("9.90"), Cycle.MONTHLY, D("49.00"), "19 % USt", False, "", None, ""),
    ("SIP-NR10", "Rufnummernblock 10 Nummern", "Portierter oder neuer Durchwahlblock", "recurring", Unit.PIECE, D("4.90"), Cycle.MONTHLY, D("0"), "19 % USt", False, "", None, ""),
    ("HOST-WEB", "Webhosting Business", "Webspace 50 GB, 20 Postfächer, SSL", "recurring", Unit.MONTH, D("14.90"), Cycle.MONTHLY, D("29.00"), "19 % USt", False, "", None, ""),
    ("M365-BS", "Microsoft 365 Business Standard", "Lizenz je Benutzer", "recurring", Unit.LICENCE, D("11.70"), Cycle.MONTHLY, D("0"), "19 % USt", False, "", None, ""),
    ("MPS-Q", "Managed Print Service Pauschale", "Toner, Zählerstandsmeldung und Flottenverwaltung", "recurring", Unit.FLAT, D("89.00"), Cycle.QUARTERLY, D("0"), "19 % USt", False, "", None, ""),
    ("BACKUP-1TB", "Cloud-Backup 1 TB", "Verschlüsselte Sicherung in deutschem Rechenzentrum", "recurring", Unit.PIECE, D("249.00"), Cycle.YEARLY, D("0"), "19 % USt", False, "", None, ""),
    ("MON-SRV", "Server-Monitoring", "24/7-Überwachung mit Alarmierung je Server", "recurring", Unit.PIECE, D("39.00"), Cycle.MONTHLY, D("99.00"), "19 % USt", False, "", None, ""),
    ("IT-FLAT", "IT-Support-Flatrate", "Remote-Support für bis zu 25 Arbeitsplätze", "recurring", Unit.FLAT, D("590.00"), Cycle.MONTHLY, D("0"), "19 % USt", False, "", None, ""),
    ("DOMAIN-DE", ".de-Domain", "Registrierung und DNS-Verwaltung", "recurring", Unit.PIECE, D("12.00"), Cycle.YEARLY, D("0"), "19 % USt", False, "", None, ""),
    ("INS-GERAET", "Elektronikversicherung", "Versicherung der Geräte gegen Bruch und Diebstahl (umsatzsteuerfrei)", "recurring", Unit.FLAT, D("120.00"), Cycle.YEARLY, D("0"), "0 % (steuerfrei)", False, "", None, ""),
]  # fmt: skip


def seed(organization, *, rng: random.Random, users: dict) -> None:
    with scope(organization=organization), transaction.atomic():
        _seed(organization, users=users)


def _seed(organization, *, users: dict) -> None:
    actor = users.get("admin")
    records = DemoRecords(organization, "catalog")
    for name, rate, default in TAX_RATES:
        key = f"catalog:tax_rate:{name}"
        if records.to_make(key, adopt=TaxRate.objects.filter(organization=organization, name=name)):
            tax_rate = services.tax_rate_create(
                organization=organization,
                user=actor,
                data={"name": name, "rate": rate, "is_default": default, "is_active": True},
            )
            records.remember(key, tax_rate)
    rates = {
        key.rsplit(":", 1)[1]: rate
        for key, rate in records.get_many(records.keys("catalog:tax_rate:"), TaxRate).items()
    }

    for code, name, description, price, cycle, entitlements in PACKAGES:
        key = f"catalog:package:{code}"
        if "19 % USt" not in rates or not records.to_make(
            key, adopt=ServicePackage.objects.filter(organization=organization, code=code)
        ):
            continue
        package = services.service_package_create(
            organization=organization,
            user=actor,
            data={
                "code": code,
                "name": name,
                "description": description,
                "price": price,
                "cycle": cycle,
                "tax_rate": rates["19 % USt"],
                "is_active": True,
            },
            entitlements=[
                {
                    "kind": kind,
                    "coverage": coverage,
                    "discount_percent": discount,
                    "response_hours": hours,
                    "scope": scope_,
                    "service_partner": partner,
                }
                for kind, coverage, discount, hours, scope_, partner in entitlements
            ],
        )
        records.remember(key, package)
    packages = {
        key.rsplit(":", 1)[1]: package
        for key, package in records.get_many(records.keys("catalog:package:"), ServicePackage).items()
    }

    for (
        sku,
        name,
        description,
        kind,
        unit,
        price,
        cycle,
        setup,
        rate,
        equipment,
        model,
        warranty,
        package,
    ) in PRODUCTS:
        key = f"catalog:product:{sku}"
        # Nothing new is priced with a demo tax rate someone deleted.
        if rate not in rates or not records.to_make(
            key, adopt=Product.objects.filter(organization=organization, sku=sku)
        ):
            continue
        product = services.product_create(
            organization=organization,
            user=actor,
            data={
                "sku": sku,
                "name": name,
                "description": description,
                "kind": ProductKind(kind),
                "unit": unit,
                "unit_price": price,
                "cycle": cycle,
                "setup_fee": setup,
                "tax_rate": rates[rate],
                "is_equipment": equipment,
                "model_number": model,
                "warranty_months": warranty,
                "service_package": packages.get(package),
                "is_active": True,
            },
        )
        records.remember(key, product)
