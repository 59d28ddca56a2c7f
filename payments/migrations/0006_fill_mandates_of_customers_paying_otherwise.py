"""A customer who pays by bank transfer may still have signed a mandate (a folder of his
pays by direct debit, or he switches later). 0003 made mandates only for customers paying
by direct debit; the others' mandate data on the customer row becomes a SepaMandate now,
since mandates are the one place a collection and the payment form read it from."""

from django.db import migrations


def forwards(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    SepaMandate = apps.get_model("payments", "SepaMandate")
    taken = set(SepaMandate.objects.values_list("organization_id", "reference"))
    with_own = set(SepaMandate.objects.filter(folder__isnull=True).values_list("customer_id", flat=True))
    rows = []
    customers = (
        Customer.objects.exclude(iban="")
        .exclude(mandate_reference="")
        .exclude(mandate_signed_on__isnull=True)
        .order_by("pk")
    )
    for customer in customers.iterator():
        key = (customer.organization_id, customer.mandate_reference)
        if key in taken or customer.pk in with_own:
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
    dependencies = [("payments", "0005_dunning")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
