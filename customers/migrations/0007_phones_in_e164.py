"""Stored phone numbers of customers and contacts in E.164, as the forms now store them.

Numbers are read as dialled in the customer's country (German when unknown). What does
not parse as a valid number is left as typed: the form flags it when the record is next
edited, and pages show it unformatted until then.
"""

from django.db import migrations

from organizations.validators import phone_to_e164


def _convert(model, fields, country_of, rows):
    changed = []
    for row in rows:
        country = country_of(row) or "DE"
        new = {name: phone_to_e164(getattr(row, name), country) for name in fields if getattr(row, name)}
        if any(getattr(row, name) != value for name, value in new.items()):
            for name, value in new.items():
                setattr(row, name, value)
            changed.append(row)
    model._base_manager.bulk_update(changed, fields, batch_size=500)


def forwards(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    _convert(
        Customer,
        ["phone"],
        lambda customer: customer.country,
        Customer._base_manager.exclude(phone="").only("pk", "phone", "country").iterator(),
    )
    contacts = (
        Contact._base_manager.exclude(phone="", mobile="")
        .select_related("customer")
        .only("pk", "phone", "mobile", "customer__country")
    )
    _convert(Contact, ["phone", "mobile"], lambda contact: contact.customer.country, contacts.iterator())


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0006_delivery_sites"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
