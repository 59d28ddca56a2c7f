"""One-off lines are invoiced after their delivery, with the delivery as the date of supply
(§ 14 Abs. 4 Nr. 6 UStG); an advance invoice only where the organization allows it, and
never to a financier. The PDFs are read back with pypdf."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from documents import services
from documents.models import Document, DocumentKind
from folders import services as folder_services
from folders.models import Equipment, OneOffLine
from tests.documents.conftest import pdf_text, sequence_value
from tests.documents.factories import oneoff

pytestmark = pytest.mark.django_db

NOV_20 = dt.date(2026, 11, 20)
NOV_23 = dt.date(2026, 11, 23)


def _text(document) -> str:
    return " ".join(pdf_text(document).split())


def _pieces(folder):
    return list(Equipment.objects.filter(line__folder=folder).order_by("line_id", "piece"))


def _deliver(folder, user, pieces, day, run_on_commit):
    return run_on_commit(
        services.delivery_note_issue,
        folder=folder,
        user=user,
        equipment_ids=[p.pk for p in pieces],
        delivery_date=day,
    )


def test_it_refuses_to_invoice_financed_hardware_before_its_delivery(financed_folder, admin_user, org):
    with pytest.raises(ValidationError) as exc:
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "awaiting_delivery"
    assert "Wartet auf Lieferung" in exc.value.messages[0]
    assert "Konica Minolta bizhub C300i" in exc.value.messages[0]
    assert sequence_value(org, "invoice") == 0
    assert not Document.objects.filter(kind=DocumentKind.INVOICE).exists()
    assert not OneOffLine.objects.filter(folder=financed_folder, invoice_document_id__isnull=False).exists()


def test_a_partial_delivery_is_not_enough_for_the_financier(financed_folder, admin_user, org, run_on_commit):
    first, _second = _pieces(financed_folder)
    _deliver(financed_folder, admin_user, [first], NOV_20, run_on_commit)
    with pytest.raises(ValidationError) as exc:
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "awaiting_delivery"
    assert sequence_value(org, "invoice") == 0


def test_the_delivery_note_releases_the_invoice_dated_on_the_delivery(
    financed_folder, admin_user, grenke, run_on_commit
):
    _deliver(financed_folder, admin_user, _pieces(financed_folder), NOV_20, run_on_commit)
    invoice = run_on_commit(
        services.invoice_oneoff_now, folder=financed_folder, user=admin_user, issue_date=dt.date(2026, 11, 30)
    )
    assert invoice.payer == grenke
    assert (invoice.service_start, invoice.service_end) == (NOV_20, NOV_20)
    assert [(ln.service_start, ln.service_end) for ln in invoice.lines.all()] == [(NOV_20, NOV_20)] * 2
    text = _text(invoice)
    assert "Leistungsdatum 20.11.2026" in text
    assert "30.11.2026" in text  # the issue date is another day
    assert "Geliefert" not in text  # one day for all: the header says it


def test_pieces_delivered_on_different_days_give_a_period_and_each_line_its_days(
    financed_folder, admin_user, run_on_commit
):
    first, second = _pieces(financed_folder)
    _deliver(financed_folder, admin_user, [first], NOV_20, run_on_commit)
    _deliver(financed_folder, admin_user, [second], NOV_23, run_on_commit)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert (invoice.service_start, invoice.service_end) == (NOV_20, NOV_23)
    copiers, installation = invoice.lines.all()
    assert (copiers.service_start, copiers.service_end) == (NOV_20, NOV_23)
    # The installation is performed with the last piece delivered.
    assert (installation.service_start, installation.service_end) == (NOV_23, NOV_23)
    text = _text(invoice)
    assert "Leistungszeitraum 20.11.2026 – 23.11.2026" in text
    assert "Geliefert vom 20.11.2026 bis 23.11.2026" in text
    assert "Geliefert am 23.11.2026" in text


def test_a_delivery_date_recorded_by_hand_counts_as_delivery(financed_folder, admin_user, run_on_commit):
    for line in OneOffLine.objects.filter(folder=financed_folder, is_equipment=True):
        folder_services.equipment_update(
            line=line,
            user=admin_user,
            rows=[{"id": p.pk, "delivered_on": NOV_20} for p in line.equipment.all()],
        )
    invoice = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    assert (invoice.service_start, invoice.service_end) == (NOV_20, NOV_20)


def test_it_invoices_the_delivered_lines_and_lets_the_others_wait(direct_folder, admin_user, run_on_commit):
    phones = OneOffLine.objects.get(folder=direct_folder, is_equipment=True)
    _deliver(direct_folder, admin_user, list(phones.equipment.all()), NOV_20, run_on_commit)
    later = oneoff(
        direct_folder, description="Yealink W73H\nDECT-Mobilteil", quantity="2", unit_price="79.00"
    )
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    # The handbooks follow the equipment still to deliver, so only the phones are invoiced.
    assert [ln.description for ln in invoice.lines.all()] == ["Yealink T54W"]
    later.refresh_from_db()
    assert later.invoice_document_id is None
    assert OneOffLine.objects.filter(folder=direct_folder, invoice_document_id__isnull=True).count() == 2


def test_an_advance_invoice_needs_the_setting_and_says_what_it_is(
    direct_folder, admin_user, org, run_on_commit
):
    with pytest.raises(ValidationError) as exc:
        services.invoice_oneoff_now(folder=direct_folder, user=admin_user)
    assert exc.value.code == "awaiting_delivery"
    org.advance_invoices = True
    org.save(update_fields=["advance_invoices"])
    direct_folder.refresh_from_db()
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    assert invoice.advance_invoice
    assert (invoice.service_start, invoice.service_end) == (None, None)
    assert invoice.total_net == Decimal("619.30")
    text = _text(invoice)
    assert f"Vorausrechnung Nr. {invoice.number}" in text
    assert "Leistungsdatum mit der Lieferung (siehe Lieferschein)" in text
    assert "Die Lieferung ist noch nicht erfolgt" in text


def test_a_financier_never_gets_an_advance_invoice(financed_folder, admin_user, org):
    org.advance_invoices = True
    org.save(update_fields=["advance_invoices"])
    financed_folder.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    assert exc.value.code == "awaiting_delivery"
    assert sequence_value(org, "invoice") == 0
