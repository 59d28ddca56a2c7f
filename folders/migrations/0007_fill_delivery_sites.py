"""One delivery site per distinct delivery address already used on a customer's folders.

Cheap and safe: it only reads the folders' address fields (they stay as they are, other
code prints them) and adds sites; the most used address of each customer becomes its
default, the folders are linked to the site of their own address. Folders without a
street and city (the customer's address stood in) get no site.
"""

from collections import Counter, defaultdict

from django.db import migrations


def _key(folder):
    return (
        folder.delivery_name.strip(),
        folder.delivery_street.strip(),
        folder.delivery_postal_code.strip(),
        folder.delivery_city.strip(),
        (folder.delivery_country or "DE").strip().upper(),
    )


def fill(apps, schema_editor):
    Folder = apps.get_model("folders", "Folder")
    DeliverySite = apps.get_model("customers", "DeliverySite")
    by_customer = defaultdict(list)
    folders = (
        Folder.objects.exclude(delivery_street="")
        .exclude(delivery_city="")
        .filter(delivery_site__isnull=True)
        .order_by("customer_id", "id")
    )
    for folder in folders.iterator():
        by_customer[folder.customer_id].append(folder)
    for customer_id, customer_folders in by_customer.items():
        counts = Counter(_key(folder) for folder in customer_folders)
        has_default = DeliverySite.objects.filter(customer_id=customer_id, is_default=True).exists()
        sites = {}
        # Most used first (ties: the older folder), so the default is the usual address.
        for key, _count in sorted(counts.items(), key=lambda item: -item[1]):
            name, street, postal_code, city, country = key
            sites[key] = DeliverySite.objects.create(
                organization_id=customer_folders[0].organization_id,
                customer_id=customer_id,
                name=name,
                street=street,
                postal_code=postal_code,
                city=city,
                country=country,
                is_default=not has_default and not sites,
            )
        for folder in customer_folders:
            Folder.objects.filter(pk=folder.pk).update(delivery_site=sites[_key(folder)])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_delivery_sites"),
        ("folders", "0006_folder_delivery_site"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
