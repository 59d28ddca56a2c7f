"""documents.bulk issues the same invoices as the documents services, only faster.

If the documents app adds a field or changes how an invoice is frozen, this comparison
fails until documents/bulk.py follows.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import transaction

from documents.bulk import InvoiceSpec, invoices_issue_bulk
from documents.models import DocumentLine
from documents.services import LineSpec, document_draft_create, document_issue, leased_object_for
from organizations.models import AuditEntry
from organizations.numbering import numbers_next
from organizations.system_texts import render_text
from tests.billing import factories as f

pytestmark = pytest.mark.django_db

IGNORED = {"id", "number", "created_at", "issued_at", "updated_at", "payment_text", "billing_run_id"}


def specs(folder):
    return [
        LineSpec(
            description="SIP-Trunk Business",
            detail="Leistungszeitraum 01.11.2026 – 30.11.2026",
            quantity=Decimal("3"),
            unit="Monat",
            unit_price=Decimal("10.5000"),
            tax_rate=Decimal("19.00"),
            source_kind="recurring",
            source_line_id=1,
            source_folder_id=folder.pk,
            cycle=1,
            service_start=dt.date(2026, 11, 1),
            service_end=dt.date(2026, 11, 30),
        ),
        LineSpec(
            description="Installation",
            quantity=Decimal("1"),
            unit="pauschal",
            unit_price=Decimal("249.99"),
            discount_percent=Decimal("10"),
            tax_rate=Decimal("7.00"),
            source_kind="oneoff",
        ),
    ]


@pytest.mark.parametrize("financed", [False, True])
def test_a_bulk_issued_invoice_equals_one_issued_by_the_documents_services(org, admin_user, financed):
    customer = f.customer(
        org,
        payment_method="direct_debit",
        iban="DE89370400440532013000",
        mandate_reference="M-1",
        mandate_signed_on=dt.date(2025, 1, 1),
    )
    f.contact(customer)
    folder = f.folder(org, customer, payment_method="bank_transfer")
    payer = customer
    leased = None
    if financed:
        payer = f.financier(org)
        f.finance(folder, payer)
        leased = leased_object_for(folder, ["SN-1"])
    issue_date = dt.date(2026, 11, 1)
    single = document_draft_create(
        organization=org,
        kind="invoice",
        user=admin_user,
        customer=customer,
        payer=payer,
        lines=specs(folder),
        folder=folder,
        service_start=dt.date(2026, 11, 1),
        service_end=dt.date(2026, 11, 30),
        leased_object=leased,
    )
    single = document_issue(document=single, user=admin_user, issue_date=issue_date)
    with transaction.atomic():
        [(bulk, lines)] = invoices_issue_bulk(
            organization=org,
            specs=[
                InvoiceSpec(
                    customer=customer,
                    payer=payer,
                    folder=folder,
                    lines=specs(folder),
                    service_start=dt.date(2026, 11, 1),
                    service_end=dt.date(2026, 11, 30),
                    leased_object=leased,
                )
            ],
            user=admin_user,
            issue_date=issue_date,
            render_pdfs=False,
        )
    single.refresh_from_db()
    bulk.refresh_from_db()
    for field in single._meta.concrete_fields:
        if field.name in IGNORED:
            continue
        assert getattr(bulk, field.attname) == getattr(single, field.attname), field.name
    assert bulk.payment_text == single.payment_text.replace(single.number, bulk.number)
    line_fields = [x.attname for x in DocumentLine._meta.concrete_fields if x.name not in ("id", "document")]
    assert list(bulk.lines.values_list(*line_fields)) == list(single.lines.values_list(*line_fields))
    single_audit = AuditEntry.objects.filter(action="invoice.issued", data__document_id=single.pk).get()
    bulk_audit = AuditEntry.objects.filter(action="invoice.issued", data__document_id=bulk.pk).get()
    assert render_text(bulk_audit.data["message"]) == render_text(single_audit.data["message"]).replace(
        single.number, bulk.number
    )
    assert bulk_audit.data["record"] == single_audit.data["record"].replace(single.number, bulk.number)
    assert (bulk_audit.object_type, bulk_audit.object_id, bulk_audit.user) == (
        single_audit.object_type,
        single_audit.object_id,
        single_audit.user,
    )


def test_numbers_are_taken_as_one_contiguous_block_after_the_last_one(org):
    with transaction.atomic():
        first = numbers_next(organization=org, kind="invoice", count=3, on=dt.date(2026, 11, 1))
        second = numbers_next(organization=org, kind="invoice", count=2, on=dt.date(2026, 11, 1))
    counters = [int(re.search(r"(\d+)$", n).group(1)) for n in first + second]
    assert counters == [1, 2, 3, 4, 5]
    assert first[0] == "RE-2026-000001"


def test_a_rolled_back_block_gives_its_numbers_back(org):
    with pytest.raises(RuntimeError), transaction.atomic():
        numbers_next(organization=org, kind="invoice", count=5, on=dt.date(2026, 11, 1))
        raise RuntimeError("rollback")
    with transaction.atomic():
        assert numbers_next(organization=org, kind="invoice", count=1, on=dt.date(2026, 11, 1)) == [
            "RE-2026-000001"
        ]


def test_the_history_names_a_run_issued_invoice_in_the_readers_language(org):
    from django.utils import timezone, translation

    from documents.models import Document
    from organizations.models import AuditEntry
    from tests.billing.helpers import bill

    month = timezone.localdate().replace(day=1)
    f.recurring(f.folder(org, f.customer(org, name="Autohaus Brandt")), start=month)
    run = bill(org, month, as_of=timezone.localdate())
    invoice = Document.objects.get(billing_run_id=run.pk)
    entry = AuditEntry.objects.get(action="invoice.issued", data__document_id=invoice.pk)
    assert entry.data["message"]["code"] == "documents.issued"
    with translation.override("en"):
        assert render_text(entry.data["message"]) == f"Invoice {invoice.number} to Autohaus Brandt issued."
    with translation.override("de"):
        assert (
            render_text(entry.data["message"]) == f"Rechnung {invoice.number} an Autohaus Brandt ausgestellt."
        )
