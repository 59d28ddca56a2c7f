"""Customers who pay by direct debit had their mandate on the customer row (IBAN,
reference, signature date); each becomes a SepaMandate, so batches find it."""

from django.db import migrations


def forwards(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    SepaMandate = apps.get_model("payments", "SepaMandate")
    taken = set(SepaMandate.objects.values_list("organization_id", "reference"))
    rows = []
    customers = (
        Customer.objects.filter(payment_method="direct_debit")
        .exclude(iban="")
        .exclude(mandate_reference="")
        .exclude(mandate_signed_on__isnull=True)
        .order_by("pk")
    )
    for customer in customers.iterator():
        key = (customer.organization_id, customer.mandate_reference)
        if key in taken or SepaMandate.objects.filter(customer_id=customer.pk, folder__isnull=True).exists():
            continue
        taken.add(key)
        rows.append(
            SepaMandate(
                organization_id=customer.organization_id,
                customer_id=customer.pk,
                reference=customer.mandate_reference,
                signed_on=customer.mandate_signed_on,
                scheme="CORE",
                debtor_name=(customer.account_holder or customer.name)[:70],
                iban=customer.iban.replace(" ", "").upper(),
                bic=customer.bic.replace(" ", "").upper(),
                status="active",
            )
        )
    SepaMandate.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0002_payment_settings_mandate_agreements"),
        ("customers", "0010_prospects_without_number"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
