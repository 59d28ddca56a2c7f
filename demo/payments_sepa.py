"""Demo SEPA data: a mandate for every direct-debit demo customer, one settled batch
with a returned collection (and its return fee) and one submitted batch.

The settled batch is collected on a business day a few days before today (its return
came in since), as a settled collection must have happened; the submitted one collects
the newer invoices on the first day their pre-notification allows. Runs before the
dunning, so a collected invoice is never dunned; the returned one is overdue again."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer, PaymentMethod
from demo.records import DemoRecords
from payments import batches, mandates, sepa_dates
from payments.models import DirectDebitBatch, SepaMandate


def seed(organization, *, rng: random.Random, users: dict) -> None:
    records = DemoRecords(organization, "payments_sepa")
    billing = users.get("billing") or users.get("admin")
    today = timezone.localdate()
    for customer in Customer.objects.filter(payment_method=PaymentMethod.DIRECT_DEBIT).exclude(
        mandate_reference=""
    ):
        key = f"payments_sepa:mandate:{customer.pk}"
        if not records.to_make(key, adopt=SepaMandate.objects.filter(customer=customer)):
            continue
        if SepaMandate.objects.filter(customer=customer).exists():
            continue
        try:
            mandate = mandates.mandate_create(
                organization=organization,
                customer=customer,
                reference=customer.mandate_reference,
                signed_on=customer.mandate_signed_on or today - dt.timedelta(days=200),
                iban=customer.iban,
                bic=customer.bic,
                debtor_name=(customer.account_holder or customer.name)[:70],
                scheme="B2B" if rng.random() < 0.2 else "CORE",
                user=billing,
                today=today,
            )
        except ValidationError:
            continue
        records.remember(key, mandate)
    if not records.once("payments_sepa:batches", done_before=DirectDebitBatch.objects.all()):
        return
    settings = mandates.payment_settings_for(organization)
    settings.return_fee = Decimal("3.00")
    settings.save(update_fields=["return_fee"])
    far = sepa_dates.next_business_day(today + dt.timedelta(days=60))
    found = [c for c in batches.candidates(organization=organization, collection_date=far) if c.collectable]
    found.sort(key=lambda c: (c.earliest, c.invoice.pk))
    past = _business_day_before(today - dt.timedelta(days=4))
    settled = [c for c in found if c.earliest <= past][: max(1, len(found) // 2)]
    rest = [c for c in found if c not in settled]
    for index, (group, date) in enumerate(
        [
            (settled, past),
            (rest, sepa_dates.next_business_day(max((c.earliest for c in rest), default=today))),
        ]
    ):
        if not group:
            continue
        try:
            made = batches.batches_create(
                organization=organization,
                collection_date=date,
                invoice_ids=[c.invoice.pk for c in group],
                user=billing,
                # Made when the lead time allowed it (for the settled one: in the past).
                today=min(today, date - dt.timedelta(days=10)),
            )
        except ValidationError:
            continue
        for number, batch in enumerate(made):
            batches.batch_submit(batch=batch, user=billing)
            records.remember(f"payments_sepa:batch:{index}" + (f":{batch.scheme}" if number else ""), batch)
            if date <= today:
                batches.batch_settle(batch=batch, user=billing, date=date)
                if number == 0:
                    item = batch.items.order_by("id").first()
                    batches.item_return(
                        item=item, reason="AM04", date=min(today, date + dt.timedelta(days=2)), user=billing
                    )


def _business_day_before(day: dt.date) -> dt.date:
    while not sepa_dates.is_business_day(day):
        day -= dt.timedelta(days=1)
    return day
