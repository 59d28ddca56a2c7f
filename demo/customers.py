"""Demo data: about sixty customers and prospects of a German office-equipment dealer.

Called by the `seed_demo` command as ``seed(organization, rng=random.Random(42), users=...)``.
Idempotent: every customer, contact, note and action is kept under a fixed demo key
(`demo.records`), so a second run creates nothing new - also after people renamed,
converted or deleted demo records, and without touching the customers they added. Every
write goes through the services (numbering, validation, audit), exactly as a clerk's would.
"""

from __future__ import annotations

import datetime as dt
import random
import re

from django.db import transaction
from django.utils import timezone
from django_scopes import scope
from schwifty import IBAN
from stdnum.eu import vat as eu_vat
from stdnum.iso7064 import mod_11_10

from customers import services
from customers.models import (
    Action,
    Contact,
    ContactFunction,
    Customer,
    CustomerKind,
    DeliveryMethod,
    Note,
    PaymentMethod,
    Salutation,
    TaxTreatment,
)
from demo.records import DemoRecords
from organizations.models import Membership
from organizations.validators import phone_to_e164

# Real bank codes (BLZ), so the generated IBANs carry a known BIC.
BANK_CODES = ["37040044", "10070000", "50010517", "20050550", "60050101", "70020270", "30050110", "86055592"]

# (name, street, postal code, city) — real German cities with their postal codes.
CUSTOMERS = [
    ("Brandt Bürotechnik GmbH", "Friedrichstraße 123", "10117", "Berlin"),
    ("Kanzlei Dr. Hoffmann & Partner", "Jungfernstieg 7", "20354", "Hamburg"),
    ("Autohaus Schneider GmbH & Co. KG", "Landsberger Straße 290", "80687", "München"),
    ("Zahnarztpraxis Dr. Weber", "Hohe Straße 52", "50667", "Köln"),
    ("Steuerberatung Fischer & Kollegen", "Zeil 85", "60313", "Frankfurt am Main"),
    ("Hausverwaltung Wagner GmbH", "Königstraße 28", "70173", "Stuttgart"),
    ("Ingenieurbüro Becker", "Königsallee 60", "40212", "Düsseldorf"),
    ("Schulz Logistik GmbH", "Hafenstraße 12", "44137", "Dortmund"),
    ("Elektro Koch GmbH", "Rüttenscheider Straße 144", "45130", "Essen"),
    ("Richter Immobilien GmbH", "Petersstraße 36", "04109", "Leipzig"),
    ("Klein & Wolf Rechtsanwälte", "Obernstraße 18", "28195", "Bremen"),
    ("Schröder Maschinenbau GmbH", "Königsbrücker Straße 96", "01099", "Dresden"),
    ("Neumann Medizintechnik AG", "Georgstraße 44", "30159", "Hannover"),
    ("Schwarz Architekten PartG mbB", "Karolinenstraße 9", "90402", "Nürnberg"),
    ("Zimmermann Druck GmbH", "Mülheimer Straße 100", "47057", "Duisburg"),
    ("Braun Versicherungsmakler GmbH", "Kortumstraße 71", "44787", "Bochum"),
    ("Krüger Gebäudeservice GmbH", "Friedrich-Ebert-Straße 55", "42103", "Wuppertal"),
    ("Hofmann Sanitär GmbH", "Niederwall 23", "33602", "Bielefeld"),
    ("Hartmann Spedition GmbH & Co. KG", "Bornheimer Straße 127", "53119", "Bonn"),
    ("Lange Personalberatung GmbH", "Salzstraße 21", "48143", "Münster"),
    ("Schmitt Werbeagentur GmbH", "Kaiserstraße 112", "76133", "Karlsruhe"),
    ("Werner Metallbau GmbH", "Industriestraße 8", "68169", "Mannheim"),
    ("Krause Optik GmbH", "Maximilianstraße 33", "86150", "Augsburg"),
    ("Meier Pflegedienst GmbH", "Wilhelmstraße 16", "65185", "Wiesbaden"),
    ("Lehmann Catering GmbH", "Hindenburgstraße 41", "41061", "Mönchengladbach"),
    ("Schmid Tischlerei", "Holstenstraße 88", "24103", "Kiel"),
    ("Hotel Am Markt Schulze GmbH", "Münsterplatz 4", "79098", "Freiburg im Breisgau"),
    ("Maier Reisebüro GmbH", "Breite Straße 50", "23552", "Lübeck"),
    ("Köhler Textil GmbH", "Kröpeliner Straße 25", "18055", "Rostock"),
    ("Herrmann Laborbedarf GmbH", "Große Bleiche 15", "55116", "Mainz"),
    ("König Apotheken OHG", "Obere Königsstraße 19", "34117", "Kassel"),
    ("Walter Bau GmbH", "Dr.-Martin-Luther-Straße 3", "93047", "Regensburg"),
    ("Mayer Autoteile GmbH", "Semmelstraße 42", "97070", "Würzburg"),
    ("Huber Brauerei GmbH", "Hauptstraße 120", "69117", "Heidelberg"),
    ("Kaiser Fitness GmbH", "Platzgasse 20", "89073", "Ulm"),
    ("Fuchs Event GmbH", "Große Straße 61", "49074", "Osnabrück"),
    ("Peters Physiotherapie", "Brandenburger Straße 30", "14467", "Potsdam"),
    ("Lang Gartenbau GmbH", "Anger 66", "99084", "Erfurt"),
    ("Scholz IT-Service GmbH", "Breiter Weg 200", "39104", "Magdeburg"),
    ("Möller Energie GmbH", "Bahnhofstraße 90", "66111", "Saarbrücken"),
    ("Weiß Kunststofftechnik GmbH", "Jülicher Straße 215", "52070", "Aachen"),
    ("Jung Steuerkanzlei", "Lange Straße 37", "26122", "Oldenburg"),
    ("Hahn Veranstaltungstechnik GmbH", "Weender Straße 75", "37073", "Göttingen"),
    ("Schubert Fahrschule", "Westernstraße 12", "33098", "Paderborn"),
    ("Vogel Landtechnik GmbH", "Ludwigstraße 5", "85049", "Ingolstadt"),
    ("Friedrich Verlag GmbH", "Almsstraße 14", "31134", "Hildesheim"),
    ("Keller Kältetechnik GmbH", "Löbdergraben 10", "07743", "Jena"),
    ("Notariat Günther", "Löhrstraße 78", "56068", "Koblenz"),
    ("Berger Getränkehandel GmbH", "Simeonstraße 33", "54290", "Trier"),
    ("Winkler Haustechnik GmbH", "Ludwigsplatz 2", "94032", "Passau"),
    ("Roth Dental-Labor GmbH", "Theresienstraße 44", "80333", "München"),
    ("Beck Sicherheitstechnik GmbH", "Alexanderstraße 7", "10178", "Berlin"),
    ("Lorenz Musikschule", "Eppendorfer Weg 180", "20253", "Hamburg"),
    ("Baumann Stiftung", "Aachener Straße 1000", "50858", "Köln"),
]
# English-speaking customers (documents in English).
ENGLISH = [
    ("Northbridge Consulting GmbH", "Taunusanlage 8", "60329", "Frankfurt am Main"),
    ("Harbour Digital GmbH", "Große Elbstraße 145", "22767", "Hamburg"),
]
# EU customers billed with reverse charge (§13b UStG): the VAT ID is printed on the invoice.
EU_CUSTOMERS = [
    ("Alpenblick Bürosysteme GmbH", "Mariahilfer Straße 77", "1060", "Wien", "AT", "ATU13585627"),
    (
        "Van Dijk Kantoorautomatisering B.V.",
        "Keizersgracht 220",
        "1016 DZ",
        "Amsterdam",
        "NL",
        "NL004495445B01",
    ),
]
FINANCIERS = [
    ("Hanse Leasing AG", "Ballindamm 17", "20095", "Hamburg", 30, "rechnungen@hanse-leasing.example"),
    (
        "Rheinland Mobilien-Leasing GmbH",
        "Hohenzollernring 72",
        "50672",
        "Köln",
        21,
        "kreditoren@rheinland-leasing.example",
    ),
]

FIRST_NAMES = [
    ("mr", "Thomas"), ("ms", "Sabine"), ("mr", "Michael"), ("ms", "Petra"), ("mr", "Andreas"),
    ("ms", "Claudia"), ("mr", "Stefan"), ("ms", "Julia"), ("mr", "Jan"), ("ms", "Katrin"),
    ("mr", "Markus"), ("ms", "Anna"), ("mr", "Tobias"), ("ms", "Laura"), ("mr", "Florian"),
    ("ms", "Nicole"), ("mr", "Christian"), ("ms", "Sandra"), ("mr", "Daniel"), ("ms", "Miriam"),
]  # fmt: skip
LAST_NAMES = [
    "Albrecht", "Bauer", "Dietrich", "Engel", "Franke", "Graf", "Haas", "Jansen", "Kühn", "Ludwig",
    "Martin", "Nowak", "Otto", "Pohl", "Quast", "Ritter", "Sauer", "Thiel", "Ulrich", "Voigt",
    "Wendt", "Yilmaz", "Ziegler", "Arnold", "Böhm", "Conrad", "Dreher", "Ebert", "Fiedler", "Gerlach",
]  # fmt: skip

NOTES = [
    "CFO immer bei Rechnungen in Kopie setzen.",
    "Rechnungen bitte nur als PDF – keine Papierpost.",
    "Ansprechpartner Technik ist nur vormittags erreichbar.",
    "Rahmenvertrag über Druckerflotte läuft bis Ende 2027.",
    "Lieferungen nur über den Hintereingang (Laderampe Hof 2).",
    "Bestellungen ab 1.000 € brauchen eine Bestellnummer des Einkaufs.",
    "Zahlt zuverlässig, lehnt aber Teilrechnungen ab.",
]
ACTIONS = [
    "Rückruf wegen Angebot Multifunktionssystem",
    "Wartungstermin für die Kopierer abstimmen",
    "Vertragsverlängerung Telefonanlage besprechen",
    "Unterschriebenes SEPA-Mandat anfordern",
    "Besuch vor Ort: Netzwerk aufnehmen",
    "Nachfassen: Angebot Managed-Print-Service",
    "Zählerstände für die Quartalsabrechnung erfragen",
    "Schulungstermin für das neue Kundenportal vereinbaren",
]


def _is_prospect(index: int) -> bool:
    """Every fourth of the German customers is a prospect."""
    return index % 4 == 3


# Every demo customer in the order the seed makes it (and numbers it):
# (name in the seed, kind in the seed, financier).
ROSTER: list[tuple[str, str, bool]] = [
    *((f[0], CustomerKind.CUSTOMER, True) for f in FINANCIERS),
    *(
        (c[0], CustomerKind.PROSPECT if _is_prospect(i) else CustomerKind.CUSTOMER, False)
        for i, c in enumerate(CUSTOMERS)
    ),
    *((c[0], CustomerKind.CUSTOMER, False) for c in ENGLISH),
    *((c[0], CustomerKind.CUSTOMER, False) for c in EU_CUSTOMERS),
]


def customer_key(name: str) -> str:
    """The demo key of the customer the seed made as `name` (whatever it is called now)."""
    return f"customers:customer:{name}"


def demo_customers(records: DemoRecords) -> list[tuple[str, str, bool, Customer | None]]:
    """The roster with each demo customer's current row (None once someone deleted it)."""
    rows = records.get_many([customer_key(name) for name, _, _ in ROSTER], Customer)
    return [(name, kind, financier, rows.get(customer_key(name))) for name, kind, financier in ROSTER]


def _slug(name: str) -> str:
    base = name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    words = re.findall(r"[a-z0-9]+", base)
    stop = {"gmbh", "co", "kg", "ag", "ohg", "dr", "partg", "mbb", "und", "b", "v"}
    return "-".join(w for w in words if w not in stop)[:30] or "firma"


def _german_vat_id(rng: random.Random) -> str:
    base = str(rng.randint(10_000_000, 99_999_999))
    vat_id = f"DE{base}{mod_11_10.calc_check_digit(base)}"
    assert eu_vat.is_valid(vat_id)
    return vat_id


# Real area codes and mobile prefixes, so the generated numbers are valid and are stored
# in E.164 like the ones clerks enter through the forms.
AREA_CODES = ("30", "40", "89", "221", "211", "69", "711", "511", "341", "351", "421", "911", "201", "231")
MOBILE_PREFIXES = ("170", "171", "172", "173", "174", "175", "177", "178", "179")


def _phone(area: int, subscriber: str) -> str:
    return phone_to_e164(f"0{AREA_CODES[area % len(AREA_CODES)]} {subscriber}", "DE")


def _iban(rng: random.Random) -> tuple[str, str]:
    iban = IBAN.generate(
        "DE", bank_code=rng.choice(BANK_CODES), account_code=str(rng.randint(10**8, 10**10 - 1))
    )
    return str(iban.compact), str(iban.bic) if iban.bic else ""


def _members(organization, users: dict) -> list:
    """Users who do the work (read-only members never get actions assigned)."""
    member_ids = set(
        Membership.objects.filter(organization=organization)
        .exclude(role="readonly")
        .values_list("user_id", flat=True)
    )
    return [u for u in users.values() if u is not None and u.pk in member_ids]


def seed(organization, *, rng: random.Random, users: dict) -> None:
    """Create the demo customers, prospects, financiers, contacts, notes and actions."""
    with scope(organization=organization), transaction.atomic():
        _seed(organization, rng=rng, users=users)


def _seed(organization, *, rng: random.Random, users: dict) -> None:
    members = _members(organization, users)
    actor = users.get("admin") or (members[0] if members else None)
    sales = [u for role, u in users.items() if role in ("sales", "admin") and u in members] or members
    demo = DemoRecords(organization, "customers")
    today = timezone.localdate()

    def ensure(name: str, kind: str, street: str, postal_code: str, city: str, **data) -> None:
        key = customer_key(name)
        if demo.to_make(key, adopt=Customer.objects.filter(organization=organization, name=name)):
            address = {"name": name, "street": street, "postal_code": postal_code, "city": city}
            customer = services.customer_create(
                organization=organization, user=actor, kind=kind, data={**address, **data}
            )
            demo.remember(key, customer)

    # The two leasing companies that finance equipment for other customers.
    for name, street, postal_code, city, terms, email in FINANCIERS:
        ensure(
            name,
            CustomerKind.CUSTOMER,
            street,
            postal_code,
            city,
            email=email.replace("rechnungen@", "info@").replace("kreditoren@", "info@"),
            phone=_phone(rng.randint(30, 89), str(rng.randint(100000, 999999))),
            is_financier=True,
            vat_id=_german_vat_id(rng),
            tax_number=f"{rng.randint(10, 99)}/{rng.randint(100, 999)}/{rng.randint(10000, 99999)}",
            payment_terms_days=terms,
            delivery_method=DeliveryMethod.EMAIL_PDF,
            invoice_email=email,
            owner=sales[0] if sales else None,
        )

    # Customers and prospects in German cities. Every fourth one is a prospect.
    for index, (name, street, postal_code, city) in enumerate(CUSTOMERS):
        kind = CustomerKind.PROSPECT if _is_prospect(index) else CustomerKind.CUSTOMER
        domain = f"{_slug(name)}.de"
        data = {
            "email": f"info@{domain}",
            "phone": _phone(rng.randint(30, 991), str(rng.randint(1000000, 9999999))),
            "website": f"https://www.{domain}",
            "owner": rng.choice(sales) if sales else None,
        }
        if kind == CustomerKind.CUSTOMER:
            data["vat_id"] = _german_vat_id(rng)
            data["invoice_email"] = f"rechnung@{domain}"
            data["consolidate_invoices"] = index % 7 == 0
            if index % 10 == 5:
                data["payment_terms_days"] = 30
            if index % 13 == 4:
                data["delivery_method"] = DeliveryMethod.POST
            elif index % 9 == 2:
                data["delivery_method"] = DeliveryMethod.EMAIL_NOTIFICATION
            if index % 5 == 0:
                iban, bic = _iban(rng)
                data.update(
                    {
                        "payment_method": PaymentMethod.DIRECT_DEBIT,
                        "iban": iban,
                        "bic": bic,
                        "account_holder": name,
                        "mandate_reference": f"MNDT-{index + 1:05}",
                        "mandate_signed_on": today - dt.timedelta(days=rng.randint(60, 900)),
                    }
                )
            elif index % 17 == 8:
                data.update(
                    {
                        "payment_method": PaymentMethod.GOCARDLESS,
                        "gocardless_mandate_id": f"MD{rng.randint(10**11, 10**12 - 1)}",
                        "delivery_method": DeliveryMethod.GOCARDLESS_EXPORT,
                    }
                )
        ensure(name, kind, street, postal_code, city, **data)

    for name, street, postal_code, city in ENGLISH:
        domain = f"{_slug(name)}.com"
        ensure(
            name,
            CustomerKind.CUSTOMER,
            street,
            postal_code,
            city,
            email=f"office@{domain}",
            invoice_email=f"accounts@{domain}",
            language="en",
            vat_id=_german_vat_id(rng),
            owner=sales[0] if sales else None,
        )

    for name, street, postal_code, city, country, vat_id in EU_CUSTOMERS:
        domain = f"{_slug(name)}.{country.lower()}"
        ensure(
            name,
            CustomerKind.CUSTOMER,
            street,
            postal_code,
            city,
            country=country,
            email=f"office@{domain}",
            invoice_email=f"boekhouding@{domain}" if country == "NL" else f"buchhaltung@{domain}",
            language="en" if country == "NL" else "de",
            tax_treatment=TaxTreatment.EU_REVERSE_CHARGE,
            vat_id=vat_id,
            payment_terms_days=30,
        )

    # (name in the seed, row) in roster order; positions pick each one's contacts,
    # notes and actions, so they stay put when someone deletes a demo customer.
    records = [(name, customer) for name, _kind, _financier, customer in demo_customers(demo)]
    _seed_contacts(demo, records, rng)
    _seed_notes_and_actions(demo, records, members, actor, rng, today)


def _seed_contacts(demo: DemoRecords, records: list[tuple[str, Customer | None]], rng: random.Random) -> None:
    functions: dict[str, ContactFunction] = {}
    for index, (name, customer) in enumerate(records):
        if customer is None:
            continue
        wanted = (
            ["Geschäftsführung", "Buchhaltung"]
            + (["Technik"] if index % 2 == 0 else [])
            + (["Einkauf"] if index % 3 == 0 else [])
        )
        domain = customer.email.split("@")[-1] if customer.email else "example.de"
        for position, function_name in enumerate(wanted):
            salutation, first = FIRST_NAMES[(index * 3 + position) % len(FIRST_NAMES)]
            last = LAST_NAMES[(index * 7 + position * 3) % len(LAST_NAMES)]
            key = f"customers:contact:{name}:{function_name}"
            if not demo.to_make(
                key, adopt=Contact.objects.filter(customer=customer, first_name=first, last_name=last)
            ):
                continue
            if not functions:
                # Only when a contact is made: a later run must not bring back a default
                # function someone renamed or deleted.
                functions = {
                    f.name: f
                    for f in services.contact_functions_ensure_defaults(organization=customer.organization)
                }
            email = f"{first.lower()}.{last.lower()}@{domain}".replace("ü", "ue").replace("ö", "oe")
            contact = services.contact_create(
                customer=customer,
                user=None,
                data={
                    "salutation": Salutation.MR if salutation == "mr" else Salutation.MS,
                    "first_name": first,
                    "last_name": last,
                    "function": functions[function_name],
                    "email": email,
                    "phone": _phone(
                        rng.randint(30, 991), f"{rng.randint(100000, 999999)}-{rng.randint(10, 99)}"
                    ),
                    "mobile": phone_to_e164(
                        f"0{MOBILE_PREFIXES[rng.randint(1, 9) - 1]} {rng.randint(1000000, 9999999)}", "DE"
                    )
                    if function_name == "Technik"
                    else "",
                    "is_invoice_recipient": function_name == "Buchhaltung" and not customer.is_prospect,
                    "has_portal_access": function_name == "Technik" and not customer.is_prospect,
                    # One former employee per few customers shows how inactive contacts look.
                    "is_active": not (function_name == "Einkauf" and index % 6 == 3),
                },
            )
            demo.remember(key, contact)


def _seed_notes_and_actions(
    demo: DemoRecords,
    records: list[tuple[str, Customer | None]],
    members,
    actor,
    rng: random.Random,
    today: dt.date,
) -> None:
    monday = today - dt.timedelta(days=today.weekday())
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    for index, (name, customer) in enumerate(records):
        if customer is None:
            continue
        if index % 3 == 0:
            text = NOTES[index % len(NOTES)]
            key = f"customers:note:{name}"
            if demo.to_make(key, adopt=Note.objects.filter(customer=customer, text=text)):
                note = services.note_create(
                    customer=customer, user=rng.choice(members) if members else actor, text=text
                )
                demo.remember(key, note)
        plans = []
        if index % 8 == 1:
            plans.append(("overdue", today - dt.timedelta(days=1 + index % 9)))
        if index % 3 == 1:
            plans.append(("week", monday + dt.timedelta(days=index % 7)))
        if index % 4 == 2:
            plans.append(("next-month", next_month + dt.timedelta(days=index % 27)))
        if index % 11 == 0:
            plans.append(("done", today - dt.timedelta(days=3 + index % 5)))
        for slot, due_on in plans:
            key = f"customers:action:{name}:{slot}"
            if not demo.to_make(key, adopt=Action.objects.filter(customer=customer, source=f"demo:{slot}")):
                continue
            action = services.action_create(
                customer=customer,
                user=actor,
                due_on=due_on,
                description=ACTIONS[(index + len(slot)) % len(ACTIONS)],
                assignee=rng.choice(members) if members else None,
                source=f"demo:{slot}",
            )
            demo.remember(key, action)
            if slot == "done":
                services.action_complete(action=action, user=actor)
