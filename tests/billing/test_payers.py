"""Who gets the invoice: consolidation, financiers, one-off lines, skips and failures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import BillingRunFailure, BillingRunSkip
from documents.services import invoice_oneoff_now
from folders.models import OneOffLine
from tests.billing import factories as f
from tests.billing.helpers import bill, invoices

D = Decimal
NOV = dt.date(2026, 11, 1)
DEC = dt.date(2026, 12, 1)

pytestmark = pytest.mark.django_db


def test_a_customer_without_consolidation_gets_one_invoice_per_folder(org):
    customer = f.customer(org)
    first, second = f.folder(org, customer, name="Zentrale"), f.folder(org, customer, name="Lager")
    f.recurring(first, start=NOV)
    f.recurring(second, start=NOV)
    docs = invoices(org, bill(org, NOV))
    assert sorted(d.folder_id for d in docs) == sorted([first.pk, second.pk])
    assert all(d.payer == customer for d in docs)


def test_a_consolidating_customer_gets_one_invoice_with_lines_grouped_by_folder(org):
    customer = f.customer(org, consolidate_invoices=True)
    first = f.folder(org, customer, name="Zentrale", number="O000101")
    second = f.folder(org, customer, name="Lager", number="O000102")
    f.recurring(first, start=NOV, price="10.00")
    f.recurring(second, start=NOV, price="20.00", description="Hosting")
    run = bill(org, NOV)
    [invoice] = invoices(org, run)
    assert invoice.folder is None
    assert [(ln.group_title, ln.description, ln.net) for ln in invoice.lines.all()] == [
        ("O000101 Zentrale", "SIP-Trunk Business", D("10.00")),
        ("O000102 Lager", "Hosting", D("20.00")),
    ]
    item = run.items.get()
    assert (item.folder, item.folders_count) == (None, 2)


def test_a_financed_folders_hardware_goes_to_the_financier_and_its_services_to_the_customer(org):
    customer = f.customer(org, name="Bäckerei Schulz KG")
    folder = f.folder(org, customer)
    leasing = f.financier(org)
    f.finance(folder, leasing)
    f.oneoff(folder, price="4290.00", serials=("A1B2C3",), delivered_on=dt.date(2026, 10, 28))
    f.recurring(folder, price="89.00", start=NOV)
    docs = {d.payer.name: d for d in invoices(org, bill(org, NOV))}
    assert set(docs) == {"GRENKE Leasing AG", "Bäckerei Schulz KG"}
    hardware = docs["GRENKE Leasing AG"]
    assert [ln.net for ln in hardware.lines.all()] == [D("4290.00")]
    assert hardware.third_party and hardware.customer == customer
    assert hardware.leased_object["serial_numbers"] == ["A1B2C3"]
    assert "Bäckerei Schulz KG" in hardware.leased_object["end_customer"]
    assert [ln.net for ln in docs["Bäckerei Schulz KG"].lines.all()] == [D("89.00")]
    assert OneOffLine.objects.get().invoice_number == hardware.number


def test_a_financier_is_never_invoiced_across_end_customers(org):
    leasing = f.financier(org, consolidate_invoices=True)
    for name in ("Kanzlei Roth", "Praxis Dr. Lang"):
        folder = f.folder(org, f.customer(org, name=name, consolidate_invoices=True))
        f.finance(folder, leasing)
        f.oneoff(folder, price="1000.00", delivered_on=dt.date(2026, 10, 28))
    docs = invoices(org, bill(org, NOV))
    assert len(docs) == 2
    assert {d.payer for d in docs} == {leasing}
    assert len({d.folder_id for d in docs}) == 2


def test_one_off_lines_invoiced_earlier_with_invoice_now_are_not_billed_again(org, admin_user):
    folder = f.folder(org)
    f.oneoff(folder, price="500.00", equipment=False, description="Installation vor Ort")
    invoice_oneoff_now(folder=folder, user=admin_user, issue_date=dt.date(2026, 10, 20))
    f.oneoff(folder, price="80.00", equipment=False, description="Kabelsatz")
    [invoice] = invoices(org, bill(org, NOV))
    assert [ln.description for ln in invoice.lines.all()] == ["Kabelsatz"]
    assert OneOffLine.objects.filter(invoice_document_id__isnull=True).count() == 0
    assert bill(org, DEC).invoices_count == 0


def test_a_billing_hold_skips_the_folder_and_the_next_run_after_it_catches_up(org):
    folder = f.folder(
        org, billing_hold=True, billing_hold_reason="Reklamation", billing_hold_until=dt.date(2026, 11, 20)
    )
    f.recurring(folder, price="10.00", start=dt.date(2026, 10, 1))
    run = bill(org, NOV, as_of=dt.date(2026, 11, 1))
    assert run.invoices_count == 0
    skip = run.skips.get()
    assert (skip.reason, skip.message, skip.until) == ("hold", "Reklamation", dt.date(2026, 11, 20))
    [invoice] = invoices(org, bill(org, DEC, as_of=dt.date(2026, 12, 1)))
    assert [ln.service_start for ln in invoice.lines.all()] == [
        dt.date(2026, 10, 1),
        dt.date(2026, 11, 1),
        DEC,
    ]


def test_a_hold_without_end_date_holds_until_lifted(org):
    folder = f.folder(org, billing_hold=True, billing_hold_reason="Insolvenzprüfung")
    f.recurring(folder, start=NOV)
    assert bill(org, NOV).skips.get().reason == "hold"
    folder.billing_hold = False
    folder.save()
    assert bill(org, NOV).invoices_count == 1


def test_a_moved_billing_date_skips_the_folder_until_that_date(org):
    folder = f.folder(org, next_billing_not_before=dt.date(2026, 11, 15))
    f.recurring(folder, start=NOV)
    run = bill(org, NOV, as_of=dt.date(2026, 11, 1))
    assert [(s.reason, s.until) for s in run.skips.all()] == [("billing_date", dt.date(2026, 11, 15))]
    assert bill(org, NOV, as_of=dt.date(2026, 11, 15)).invoices_count == 1


def test_suspended_folders_and_folders_with_nothing_due_are_listed_with_their_reason(org):
    suspended = f.folder(org, status="suspended")
    f.recurring(suspended, start=NOV)
    yearly = f.folder(org)
    f.recurring(yearly, cycle=12, start=dt.date(2026, 1, 1))
    draft = f.folder(org, status="draft")
    f.recurring(draft, start=NOV)
    bill(org, dt.date(2026, 1, 1))
    run = bill(org, NOV)
    assert {(s.folder_id, s.reason) for s in run.skips.all()} == {
        (suspended.pk, "suspended"),
        (yearly.pk, "nothing_due"),
    }
    assert run.invoices_count == 0


def test_a_payer_without_address_fails_alone_and_the_others_are_billed(org):
    broken = f.folder(org, f.customer(org, name="Ohne Adresse GmbH", street="", city=""))
    f.recurring(broken, start=NOV)
    fine = f.folder(org)
    f.recurring(fine, start=NOV)
    run = bill(org, NOV)
    assert run.invoices_count == 1
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.reason == "payer_data_missing"
    assert failure.payer.name == "Ohne Adresse GmbH"
    assert "Ohne Adresse GmbH" in failure.message
    assert run.failed_count == 1
    # Fixed, the next run bills it.
    broken.customer.street, broken.customer.city = "Hafenstraße 1", "Kiel"
    broken.customer.save()
    assert bill(org, NOV).invoices_count == 1


def test_a_financier_without_address_blocks_only_the_hardware_invoice(org):
    folder = f.folder(org)
    f.finance(folder, f.financier(org, street=""))
    f.oneoff(folder, delivered_on=dt.date(2026, 10, 28))
    f.recurring(folder, start=NOV)
    run = bill(org, NOV)
    [invoice] = invoices(org, run)
    assert invoice.payer == folder.customer
    assert run.failures.get().reason == "payer_data_missing"
    assert OneOffLine.objects.get().invoice_document_id is None  # still open, billed once fixed


def test_a_line_the_engine_cannot_settle_is_listed_and_the_rest_billed(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="30.00", start=NOV)
    other = f.recurring(folder, price="5.00", start=NOV, description="Rufnummernblock")
    bill(org, NOV)
    # A trial granted after the period was billed: only a clerk can settle that.
    line.trial_end = dt.date(2026, 11, 10)
    line.save()
    f.change(other, effective_from=dt.date(2026, 11, 16), price="6.00")
    run = bill(org, DEC)
    failure = run.failures.get()
    assert (failure.reason, failure.recurring_line) == ("conflict", line)
    [invoice] = invoices(org, run)
    assert {ln.source_line_id for ln in invoice.lines.all()} == {other.pk}


def test_skips_and_failures_are_kept_per_run(org):
    folder = f.folder(org, billing_hold=True, billing_hold_reason="Prüfung")
    f.recurring(folder, start=NOV)
    bill(org, NOV)
    bill(org, NOV)
    assert BillingRunSkip.objects.count() == 2


def test_a_reverse_charge_customer_is_billed_without_german_vat_and_with_the_note(org):
    customer = f.customer(
        org,
        name="Wiener Büro GmbH",
        country="AT",
        tax_treatment="eu_reverse_charge",
        vat_id="ATU13585627",
    )
    f.recurring(f.folder(org, customer), price="100.00", start=NOV)
    [invoice] = invoices(org, bill(org, NOV))
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        D("100.00"),
        D("0.00"),
        D("100.00"),
    )
    assert "13b" in invoice.tax_note
    assert [ln.tax_rate for ln in invoice.lines.all()] == [D("0.00")]


def test_a_prospect_is_not_invoiced_and_the_run_says_why(org):
    prospect = f.customer(org, name="Noch Interessent GmbH", kind="prospect")
    f.recurring(f.folder(org, prospect), start=NOV)
    run = bill(org, NOV)
    assert run.invoices_count == 0
    failure = run.failures.get()
    assert failure.payer == prospect and "Noch Interessent GmbH" in failure.message


def test_an_english_speaking_payer_gets_english_line_texts(org):
    customer = f.customer(org, name="Harbour Ltd", language="en")
    f.recurring(f.folder(org, customer), price="30.00", start=dt.date(2026, 11, 16))
    [invoice] = invoices(org, bill(org, NOV))
    [line] = invoice.lines.all()
    assert line.detail.splitlines()[1].startswith("Service period")
    assert "prorated, 15 of 30 days" in line.detail


def test_the_run_invoices_one_off_lines_only_as_the_customer_accepted_them(org, admin_user):
    from django.test import TestCase

    from billing.models import BillingRunFailure
    from documents import services as document_services
    from folders.models import OneOffLine

    folder = f.folder(org)
    line = f.oneoff(folder, price="1000.00", equipment=False, description="Einrichtung Netzwerk")
    with TestCase.captureOnCommitCallbacks(execute=True):
        quote = document_services.quote_issue(
            quote=document_services.quote_create(folder=folder, user=admin_user), user=admin_user
        )
    document_services.quote_accept(quote=quote, user=admin_user)
    OneOffLine.objects.filter(pk=line.pk).update(unit_price=D("1200.00"))
    other = f.folder(org)
    f.oneoff(other, price="80.00", equipment=False, description="Kabelsatz")
    run = bill(org, NOV)
    [invoice] = invoices(org, run)
    assert invoice.folder_id == other.pk
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.reason == "conflict" and quote.number in failure.message
    line.refresh_from_db()
    assert line.invoice_document_id is None


def test_the_run_waits_for_the_financiers_approval(org):
    from billing.models import BillingRunFailure

    folder = f.folder(org)
    f.oneoff(folder, price="4290.00", delivered_on=dt.date(2026, 10, 28))
    f.recurring(folder, price="50.00", start=NOV)
    f.finance(folder, status="submitted")
    run = bill(org, NOV)
    [services_invoice] = invoices(org, run)
    assert services_invoice.payer == folder.customer  # the customer's services are billed
    failure = BillingRunFailure.objects.get(run=run)
    assert failure.reason == "conflict" and "nicht genehmigt" in failure.message


def test_the_run_lets_undelivered_hardware_wait_and_bills_it_dated_on_its_delivery(org):
    customer = f.customer(org, name="Bäckerei Schulz KG")
    folder = f.folder(org, customer)
    f.finance(folder, f.financier(org))
    line = f.oneoff(folder, price="4290.00", quantity="2", serials=("A1", "A2"))
    f.recurring(folder, price="89.00", start=NOV)
    run = bill(org, NOV)
    [service] = invoices(org, run)
    assert service.payer == customer  # the services do not wait for the hardware
    skip = run.skips.get()
    assert (skip.reason, skip.message) == ("awaiting_delivery", "Konica Minolta bizhub C300i")
    assert skip.get_reason_display() == "wartet auf Lieferung"
    assert OneOffLine.objects.get().invoice_document_id is None

    first, second = line.equipment.order_by("piece")
    first.delivered_on, second.delivered_on = dt.date(2026, 11, 24), dt.date(2026, 11, 26)
    first.save(update_fields=["delivered_on"])
    second.save(update_fields=["delivered_on"])
    run = bill(org, DEC)
    hardware = next(d for d in invoices(org, run) if d.third_party)
    assert (hardware.service_start, hardware.service_end) == (dt.date(2026, 11, 24), dt.date(2026, 11, 26))
    [hw_line] = hardware.lines.all()
    assert (hw_line.service_start, hw_line.service_end) == (dt.date(2026, 11, 24), dt.date(2026, 11, 26))
    assert not run.skips.filter(reason="awaiting_delivery").exists()


def test_rejected_financing_bills_the_hardware_to_the_end_customer_as_a_direct_sale(org):
    customer = f.customer(org, name="Bäckerei Schulz KG")
    folder = f.folder(org, customer)
    leasing = f.financier(org)
    f.finance(folder, leasing, status="rejected")
    f.oneoff(folder, price="4290.00", serials=("A1B2C3",), delivered_on=dt.date(2026, 10, 28))
    f.recurring(folder, price="89.00", start=NOV)
    run = bill(org, NOV)
    [invoice] = invoices(org, run)
    assert invoice.payer == customer and not invoice.third_party
    assert sorted(ln.net for ln in invoice.lines.all()) == [D("89.00"), D("4290.00")]
    assert OneOffLine.objects.get().invoice_number == invoice.number
    assert not BillingRunFailure.objects.filter(run=run).exists()


def test_a_terminated_folder_with_rejected_financing_leaves_its_hardware_uninvoiced(org):
    folder = f.folder(org, status="terminated", end_date=dt.date(2026, 10, 31))
    f.finance(folder, status="rejected")
    f.oneoff(folder, price="4290.00", delivered_on=dt.date(2026, 10, 28))
    run = bill(org, NOV)
    assert invoices(org, run) == []
    skip = BillingRunSkip.objects.get(run=run)
    assert skip.folder == folder and skip.reason == "financing_rejected"
    assert OneOffLine.objects.get().invoice_document_id is None
