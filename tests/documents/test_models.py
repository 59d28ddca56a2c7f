"""Issued documents are records: frozen fields refuse updates, nothing issued is deleted."""

from __future__ import annotations

from decimal import Decimal

import pytest

from documents import services
from documents.models import Document, DocumentFrozenError, DocumentLine, DocumentStatus
from tests.documents.conftest import sequence_value

pytestmark = pytest.mark.django_db


def test_it_gives_a_draft_no_number(financed_folder, admin_user, org):
    quote = services.quote_create(folder=financed_folder, user=admin_user)
    assert quote.status == DocumentStatus.DRAFT
    assert quote.number == ""
    assert quote.issue_date is None
    assert sequence_value(org, "quote") == 0
    assert quote.lines.count() == 3


@pytest.mark.parametrize(
    "field, value",
    [
        ("recipient_name", "Someone Else GmbH"),
        ("recipient_address", ["Elsewhere 1", "12345 Anywhere"]),
        ("total_gross", Decimal("1.00")),
        ("number", "RE-2026-999999"),
        ("issue_date", None),
        ("tax_breakdown", []),
        ("issuer", {"legal_name": "Fake"}),
        ("payment_text", "Bitte nicht zahlen."),
    ],
)
def test_it_refuses_to_change_a_frozen_field(invoice, field, value):
    setattr(invoice, field, value)
    with pytest.raises(DocumentFrozenError):
        invoice.save()
    stored = Document.objects.get(pk=invoice.pk)
    assert getattr(stored, field) != value


def test_it_refuses_bulk_updates_of_frozen_fields(invoice):
    with pytest.raises(DocumentFrozenError):
        Document.objects.filter(pk=invoice.pk).update(total_net=Decimal("0.00"))


def test_it_lets_the_status_change_after_issuing(invoice):
    invoice.status = DocumentStatus.SENT
    invoice.save()
    assert Document.objects.get(pk=invoice.pk).status == DocumentStatus.SENT
    Document.objects.filter(pk=invoice.pk).update(status=DocumentStatus.ISSUED)


def test_it_writes_the_pdf_fields_only_once(invoice):
    assert invoice.pdf and len(invoice.pdf_sha256) == 64
    invoice.pdf_sha256 = "0" * 64
    with pytest.raises(DocumentFrozenError):
        invoice.save()


def test_it_never_deletes_an_issued_document(invoice):
    with pytest.raises(DocumentFrozenError):
        invoice.delete()
    with pytest.raises(DocumentFrozenError):
        Document.objects.filter(pk=invoice.pk).delete()
    assert Document.objects.filter(pk=invoice.pk).exists()


def test_it_freezes_the_lines_of_an_issued_document(invoice):
    line = invoice.lines.first()
    line.unit_price = Decimal("1.00")
    with pytest.raises(DocumentFrozenError):
        line.save()
    with pytest.raises(DocumentFrozenError):
        line.delete()
    with pytest.raises(DocumentFrozenError):
        DocumentLine.objects.filter(document=invoice).update(net=Decimal("0"))
    with pytest.raises(DocumentFrozenError):
        DocumentLine.objects.create(
            organization=invoice.organization, document=invoice, position=99, description="x", quantity=1
        )


def test_it_discards_a_draft_without_a_trace_in_the_numbers(financed_folder, admin_user, org):
    quote = services.quote_create(folder=financed_folder, user=admin_user)
    services.document_discard(document=quote, user=admin_user)
    assert not Document.objects.filter(pk=quote.pk).exists()
    assert sequence_value(org, "quote") == 0


def test_it_refuses_to_discard_an_issued_document(invoice, admin_user):
    with pytest.raises(services.ValidationError):
        services.document_discard(document=invoice, user=admin_user)
