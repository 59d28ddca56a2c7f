"""Document screens: lists with filters and totals, the document page, the PDF, the
folder actions; the tenant wall and the roles."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents import services
from documents.models import Document, DocumentKind, DocumentStatus
from folders.models import Equipment, OneOffLine
from tests.documents.conftest import sequence_value
from tests.documents.factories import FolderFactory, deliver, oneoff

pytestmark = pytest.mark.django_db


@pytest.fixture
def documents(financed_folder, direct_folder, admin_user, run_on_commit, issue_quote, issue_correction):
    """A quote, two invoices (one to the financier), a credit note and a delivery note."""
    quote = issue_quote(financed_folder, admin_user)
    deliver(financed_folder)
    financed = run_on_commit(services.invoice_oneoff_now, folder=financed_folder, user=admin_user)
    deliver(direct_folder)
    direct = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    credit = issue_correction(
        direct, admin_user, "Kulanz", amount=Decimal("10.00"), tax_rate=Decimal("19.00")
    )
    piece = Equipment.objects.filter(line__folder=financed_folder).first()
    note = run_on_commit(
        services.delivery_note_issue, folder=financed_folder, user=admin_user, equipment_ids=[piece.pk]
    )
    return {"quote": quote, "financed": financed, "direct": direct, "credit": credit, "note": note}


def _all_urls(docs, folder):
    pk = docs["financed"].pk
    return [
        reverse("documents:detail", args=[pk]),
        reverse("documents:pdf", args=[pk]),
        reverse("documents:pdf", args=[pk]) + "?download=1",
        reverse("documents:pdf_status", args=[pk]),
        reverse("documents:cancel", args=[pk]),
        reverse("documents:credit_note_create", args=[pk]),
        reverse("documents:quote_create", args=[folder.pk]),
        reverse("documents:delivery_note_create", args=[folder.pk]),
    ]


# --- lists -------------------------------------------------------------------------------


def test_the_lists_show_each_kind_with_totals(documents, admin_client):
    response = admin_client.get(reverse("documents:invoices"))
    assert response.status_code == 200
    body = response.content.decode()
    assert documents["financed"].number in body and documents["direct"].number in body
    assert documents["quote"].number not in body
    total_gross = documents["financed"].total_gross + documents["direct"].total_gross
    assert response.context["totals"]["gross"] == total_gross
    for name, doc in [("quotes", "quote"), ("credit_notes", "credit"), ("delivery_notes", "note")]:
        response = admin_client.get(reverse(f"documents:{name}"))
        assert response.status_code == 200
        assert documents[doc].number in response.content.decode()


def test_the_totals_leave_out_cancelled_invoices_and_superseded_quotes(documents, admin_client, admin_user):
    services.invoice_cancel(invoice=documents["financed"], user=admin_user, reason="Falscher Finanzierer")
    response = admin_client.get(reverse("documents:invoices"))
    body = response.content.decode()
    assert documents["financed"].number in body  # still listed
    assert response.context["totals"]["gross"] == documents["direct"].total_gross
    assert response.context["totals"]["issued"] == 1
    assert "ohne Entwürfe und stornierte Rechnungen" in body
    old = documents["quote"]
    new = services.quote_revise(quote=old, user=admin_user)
    response = admin_client.get(reverse("documents:quotes"))
    body = response.content.decode()
    assert old.number in body and new.number in body
    assert response.context["totals"]["gross"] == new.total_gross
    assert response.context["totals"]["issued"] == 1
    assert "ohne Entwürfe und ersetzte Versionen" in body


def test_the_filters_narrow_the_rows_and_the_totals(documents, admin_client, grenke):
    url = reverse("documents:invoices")
    response = admin_client.get(url, {"third_party": "1"})
    assert [row.record for row in response.context["table"].page.object_list] == [documents["financed"]]
    assert response.context["totals"]["gross"] == documents["financed"].total_gross
    response = admin_client.get(url, {"payer": "grenke"})
    assert list(response.context["filter"].qs) == [documents["financed"]]
    response = admin_client.get(url, {"customer": documents["direct"].customer.number})
    assert list(response.context["filter"].qs) == [documents["direct"]]
    response = admin_client.get(url, {"number": documents["direct"].number})
    assert list(response.context["filter"].qs) == [documents["direct"]]
    today = documents["direct"].issue_date
    response = admin_client.get(url, {"date_from": (today + dt.timedelta(days=1)).isoformat()})
    assert list(response.context["filter"].qs) == []
    assert response.context["totals"]["gross"] == Decimal("0.00")
    response = admin_client.get(url, {"status": "cancelled"})
    assert list(response.context["filter"].qs) == []
    response = admin_client.get(url, {"date_from": "not-a-date", "status": "bogus"})
    assert response.status_code == 200


def test_the_list_runs_a_constant_number_of_queries(org, admin_client, admin_user, run_on_commit):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse("documents:invoices")).status_code == 200
        return len(ctx)

    folder = FolderFactory(organization=org)
    oneoff(folder, equipment=False)
    deliver(folder)
    run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    count()  # the first request also stores the session's active organization
    few = count()
    for _ in range(6):
        folder = FolderFactory(organization=org)
        oneoff(folder, equipment=False)
        deliver(folder)
        run_on_commit(services.invoice_oneoff_now, folder=folder, user=admin_user)
    assert count() == few


# --- the document page and the PDF --------------------------------------------------------


def test_the_document_page_shows_snapshot_lines_and_actions(documents, admin_client):
    invoice = documents["financed"]
    response = admin_client.get(reverse("documents:detail", args=[invoice.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "GRENKE Leasing AG" in body and "GR-2026-4711" in body and "A7PU021012345" in body
    assert reverse("documents:pdf", args=[invoice.pk]) in body  # the preview
    actions = {a["key"]: a for a in response.context["actions"]}
    assert actions["download"]["enabled"] and actions["cancel"]["enabled"] and actions["credit"]["enabled"]
    assert "accept" not in actions
    history = response.context["history"]
    assert any(
        row["entry"].action == "invoice.issued" and row["title"] == "Rechnung ausgestellt" for row in history
    )


def test_the_pdf_is_served_inline_or_as_download(documents, admin_client):
    invoice = documents["financed"]
    url = reverse("documents:pdf", args=[invoice.pk])
    inline = admin_client.get(url)
    assert inline.status_code == 200 and inline["Content-Type"] == "application/pdf"
    assert inline["Content-Disposition"].startswith("inline")
    assert b"".join(inline.streaming_content).startswith(b"%PDF")
    download = admin_client.get(url, {"download": "1"})
    assert download["Content-Disposition"].startswith("attachment")
    assert invoice.number in download["Content-Disposition"]


def test_the_page_polls_while_the_pdf_is_prepared(financed_folder, admin_client, admin_user):
    deliver(financed_folder)
    invoice = services.invoice_oneoff_now(folder=financed_folder, user=admin_user)  # no commit: no PDF yet
    response = admin_client.get(reverse("documents:detail", args=[invoice.pk]))
    body = response.content.decode()
    assert 'hx-trigger="every 2s"' in body
    assert reverse("documents:pdf_status", args=[invoice.pk]) in body
    actions = {a["key"]: a for a in response.context["actions"]}
    assert not actions["download"]["enabled"]
    status = admin_client.get(reverse("documents:pdf_status", args=[invoice.pk]))
    assert 'hx-trigger="every 2s"' in status.content.decode()  # the worker had no time yet


def test_a_missing_pdf_is_rendered_on_demand(financed_folder, admin_client, admin_user, monkeypatch):
    # E.g. invoices a billing run issued in bulk without rendering, or a lost task.
    deliver(financed_folder)
    invoice = services.invoice_oneoff_now(folder=financed_folder, user=admin_user)
    monkeypatch.setattr("documents.views.RENDER_ON_DEMAND_AFTER_SECONDS", 0)  # the worker had its time
    status = admin_client.get(reverse("documents:pdf_status", args=[invoice.pk]))
    assert "<iframe" in status.content.decode()
    invoice.refresh_from_db()
    assert invoice.pdf and len(invoice.pdf_sha256) == 64
    response = admin_client.get(reverse("documents:pdf", args=[invoice.pk]))
    assert response.status_code == 200


def test_outsiders_get_404_on_every_document_url(documents, financed_folder, outsider, client_for):
    client = client_for(outsider)
    for url in _all_urls(documents, financed_folder):
        assert client.get(url).status_code == 404, url
    pk = documents["financed"].pk
    for name in [
        "issue",
        "discard",
        "send",
        "accept",
        "decline",
        "revise",
        "render",
        "cancel",
        "credit_note_create",
    ]:
        assert client.post(reverse(f"documents:{name}", args=[pk]), {"reason": "x"}).status_code == 404, name
    for name in ["quote_create", "invoice_oneoff", "delivery_note_create"]:
        assert client.post(reverse(f"documents:{name}", args=[financed_folder.pk])).status_code == 404, name
    documents["financed"].refresh_from_db()
    assert documents["financed"].status == DocumentStatus.ISSUED


def test_read_only_staff_see_but_cannot_write(documents, financed_folder, readonly_user, client_for, org):
    client = client_for(readonly_user)
    assert client.get(reverse("documents:detail", args=[documents["financed"].pk])).status_code == 200
    assert client.get(reverse("documents:pdf", args=[documents["financed"].pk])).status_code == 200
    pk = documents["financed"].pk
    for name in ["send", "cancel", "credit_note_create", "render"]:
        assert client.post(reverse(f"documents:{name}", args=[pk]), {"reason": "x"}).status_code == 403, name
    for name in ["quote_create", "invoice_oneoff", "delivery_note_create"]:
        assert client.post(reverse(f"documents:{name}", args=[financed_folder.pk])).status_code == 403, name
    before = sequence_value(org, "credit_note")
    assert sequence_value(org, "credit_note") == before


def test_sales_may_issue_quotes_but_not_invoices(financed_folder, sales_user, client_for, org):
    client = client_for(sales_user)
    response = client.post(
        reverse("documents:quote_create", args=[financed_folder.pk]),
        {"valid_until": (dt.date.today() + dt.timedelta(days=14)).isoformat(), "action": "issue"},
    )
    quote = Document.objects.get(kind=DocumentKind.QUOTE)
    assert response.status_code == 302 and response["Location"] == reverse(
        "documents:detail", args=[quote.pk]
    )
    assert quote.number and quote.created_by == sales_user
    assert client.post(reverse("documents:invoice_oneoff", args=[financed_folder.pk])).status_code == 403
    assert sequence_value(org, "invoice") == 0
    assert client.post(reverse("documents:accept", args=[quote.pk])).status_code == 302


def test_support_may_issue_delivery_notes_only(financed_folder, support_user, client_for):
    client = client_for(support_user)
    piece = Equipment.objects.filter(line__folder=financed_folder).first()
    assert client.get(reverse("documents:quote_create", args=[financed_folder.pk])).status_code == 403
    url = reverse("documents:delivery_note_create", args=[financed_folder.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"equipment": [piece.pk], "delivery_date": dt.date.today().isoformat()})
    note = Document.objects.get(kind=DocumentKind.DELIVERY_NOTE)
    assert response.status_code == 302
    assert note.lines.get().serial_number == piece.serial_number


# --- folder actions through the browser ------------------------------------------------------


def test_invoicing_from_the_folder_page_and_again_says_why_not(
    financed_folder, billing_user, client_for, org
):
    client = client_for(billing_user)
    url = reverse("documents:invoice_oneoff", args=[financed_folder.pk])
    deliver(financed_folder)
    response = client.post(url, follow=True)
    invoice = Document.objects.get(kind=DocumentKind.INVOICE)
    assert response.redirect_chain[-1][0] == reverse("documents:detail", args=[invoice.pk])
    assert (
        f"{invoice.number}" in response.content.decode() and "GRENKE Leasing AG" in response.content.decode()
    )
    again = client.post(url)
    assert again.status_code == 302
    messages = [str(m) for m in again.wsgi_request._messages]
    assert messages and "Kopierer Zentrale" in messages[-1]
    assert sequence_value(org, "invoice") == 1


def test_the_quote_form_refuses_bad_input_with_a_message(org, admin_client):
    empty = FolderFactory(organization=org)
    url = reverse("documents:quote_create", args=[empty.pk])
    response = admin_client.post(url, {"valid_until": "2000-01-01"})
    assert response.status_code == 200 and response.context["form"].errors["valid_until"]
    response = admin_client.post(url, {"valid_until": (dt.date.today() + dt.timedelta(days=3)).isoformat()})
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    assert response.status_code == 200 and not Document.objects.exists()
    assert admin_client.post(url, {}).status_code == 200


def test_the_delivery_form_refuses_a_piece_of_another_folder(
    financed_folder, direct_folder, admin_client, org
):
    foreign = Equipment.objects.filter(line__folder=direct_folder).first()
    url = reverse("documents:delivery_note_create", args=[financed_folder.pk])
    response = admin_client.post(
        url, {"equipment": [foreign.pk], "delivery_date": dt.date.today().isoformat()}
    )
    assert response.status_code == 200 and response.context["form"].errors["equipment"]
    assert sequence_value(org, "delivery_note") == 0


def test_cancel_and_credit_forms(documents, admin_client):
    invoice = documents["financed"]
    url = reverse("documents:cancel", args=[invoice.pk])
    assert admin_client.get(url).status_code == 200
    assert admin_client.post(url, {"reason": ""}).context["form"].errors["reason"]
    response = admin_client.post(url, {"reason": "Falscher Finanzierer"})
    credit = Document.objects.get(cancels=invoice, cancellation=True)
    assert response["Location"] == reverse("documents:detail", args=[credit.pk])
    again = admin_client.post(url, {"reason": "nochmal"})
    assert again.status_code == 200 and again.context["form"].non_field_errors()
    credit_url = reverse("documents:credit_note_create", args=[documents["direct"].pk])
    response = admin_client.post(
        credit_url, {"mode": "amount", "amount": "5,00", "tax_rate": "19.00", "reason": "Kulanz"}
    )
    assert response.status_code == 302
    response = admin_client.post(credit_url, {"mode": "lines", "reason": "x"})
    assert response.context["form"].errors["lines"]
    assert admin_client.get(reverse("documents:cancel", args=[documents["quote"].pk])).status_code == 404


def test_credit_notes_are_called_cancellation_invoice_or_invoice_correction_on_screen(
    documents, admin_client, admin_user
):
    correction = documents["credit"]
    response = admin_client.get(reverse("documents:detail", args=[correction.pk]))
    assert response.context["document"].title_label == "Rechnungskorrektur"
    body = response.content.decode()
    assert f"Rechnungskorrektur {correction.number}" in body and "Gutschrift " + correction.number not in body
    response = admin_client.get(reverse("documents:detail", args=[documents["direct"].pk]))
    actions = {a["key"]: a for a in response.context["actions"]}
    assert actions["credit"]["label"] == "Rechnungskorrektur"
    cancellation = services.invoice_cancel(invoice=documents["financed"], user=admin_user, reason="Fehler")
    body = admin_client.get(reverse("documents:detail", args=[cancellation.pk])).content.decode()
    assert f"Stornorechnung {cancellation.number}" in body
    body = admin_client.get(reverse("documents:credit_notes")).content.decode()
    assert "Rechnungskorrektur" in body and "Storno" in body
    form = admin_client.get(reverse("documents:credit_note_create", args=[documents["direct"].pk]))
    assert f"Rechnungskorrektur zu Rechnung {documents['direct'].number}" in form.content.decode()


def test_an_accepted_quote_can_be_revised(documents, admin_client, admin_user):
    quote = documents["quote"]
    services.quote_accept(quote=quote, user=admin_user)
    response = admin_client.get(reverse("documents:detail", args=[quote.pk]))
    actions = {a["key"]: a for a in response.context["actions"]}
    assert actions["revise"]["enabled"] and not actions["accept"]["enabled"]
    response = admin_client.post(reverse("documents:revise", args=[quote.pk]))
    new = Document.objects.get(previous_version=quote)
    assert response["Location"] == reverse("documents:detail", args=[new.pk])
    quote.refresh_from_db()
    assert quote.status == DocumentStatus.SUPERSEDED and new.status == DocumentStatus.ISSUED


def test_quote_actions_from_the_document_page(documents, admin_client):
    quote = documents["quote"]
    response = admin_client.post(reverse("documents:revise", args=[quote.pk]))
    new = Document.objects.get(previous_version=quote)
    assert response["Location"] == reverse("documents:detail", args=[new.pk])
    response = admin_client.post(reverse("documents:decline", args=[new.pk]), {"reason": "zu teuer"})
    new.refresh_from_db()
    assert new.status == DocumentStatus.DECLINED
    response = admin_client.post(reverse("documents:accept", args=[new.pk]))
    new.refresh_from_db()
    assert new.status == DocumentStatus.DECLINED  # refused with a message, not a 500
    assert response.status_code == 302


def test_the_folder_and_customer_sections_list_the_documents(
    documents, financed_folder, grenke, admin_client
):
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from documents import panels
    from organizations.context_processors import _Perms

    request = RequestFactory().get("/")
    html = render_to_string(
        "documents/_folder_documents.html",
        {
            "folder": financed_folder,
            "panel": panels.folder_documents(request, financed_folder),
            "can": _Perms("admin"),
            "request": request,
        },
    )
    for key in ("quote", "financed", "note"):
        assert documents[key].number in html
    assert reverse("documents:quote_create", args=[financed_folder.pk]) in html
    assert (
        reverse("documents:invoice_oneoff", args=[financed_folder.pk]) not in html
    )  # nothing left to invoice

    def customer_section(customer):
        return render_to_string(
            "documents/_customer_documents.html",
            {
                "customer": customer,
                "panel": panels.customer_documents(request, customer),
                "can": _Perms("admin"),
            },
        )

    html = customer_section(grenke)
    assert documents["financed"].number in html and documents["quote"].number not in html
    html = customer_section(financed_folder.customer)
    for key in ("quote", "financed", "note"):
        assert documents[key].number in html


def test_a_quote_page_shows_each_cycle_apart(org, admin_client, admin_user, issue_quote):
    from tests.documents.factories import recurring

    folder = FolderFactory(organization=org)
    recurring(folder, description="SIP-Trunk", quantity="4", unit_price="9.90")
    recurring(folder, description="Cloud-Backup", unit_price="249.00", cycle=12)
    quote = issue_quote(folder, admin_user)
    body = admin_client.get(reverse("documents:detail", args=[quote.pk])).content.decode()
    assert "Laufende Kosten monatlich" in body and "Laufende Kosten jährlich" in body
    assert "47,12" in body and "296,31" in body
    assert "Einmalige Kosten" not in body and "343,43" not in body


def test_invoicing_part_of_the_lines_says_which_still_await_delivery(direct_folder, billing_user, client_for):
    phones = OneOffLine.objects.get(folder=direct_folder, is_equipment=True)
    phones.equipment.update(delivered_on=dt.date(2026, 11, 20))
    oneoff(direct_folder, description="Yealink W73H", quantity="2", unit_price="79.00")
    client = client_for(billing_user)
    response = client.post(reverse("documents:invoice_oneoff", args=[direct_folder.pk]), follow=True)
    content = response.content.decode()
    assert "2 einmalige Positionen warten auf Lieferung" in content
    invoice = Document.objects.get(kind=DocumentKind.INVOICE)
    assert [line.description for line in invoice.lines.all()] == ["Yealink T54W"]


def test_invoicing_before_delivery_is_refused_with_a_message(financed_folder, billing_user, client_for, org):
    client = client_for(billing_user)
    response = client.post(reverse("documents:invoice_oneoff", args=[financed_folder.pk]), follow=True)
    assert response.status_code == 200
    assert "Wartet auf Lieferung" in response.content.decode()
    assert sequence_value(org, "invoice") == 0
