"""The organization's stored phone number in E.164, as the settings form now stores it.

A number that does not parse is left as typed; the form flags it on the next edit.
"""

from django.db import migrations

from organizations.validators import phone_to_e164


def forwards(apps, schema_editor):
    Organization = apps.get_model("organizations", "Organization")
    for organization in Organization._base_manager.exclude(phone="").only("pk", "phone", "country"):
        phone = phone_to_e164(organization.phone, organization.country or "DE")
        if phone != organization.phone:
            Organization._base_manager.filter(pk=organization.pk).update(phone=phone)


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0005_organization_small_business"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
