"""The direct-debit and mandate pages: what each role may do, another organization's
batches and mandates are 404, the downloaded file is a valid pain.008, the mandate form
PDF carries creditor id and reference."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from payments import batches
from payments.models import BatchStatus, DirectDebitBatch, SepaMandate
from tests.conftest import login
from tests.customers.factories import CustomerFactory
from tests.payments.sepa_helpers import IBANS, dd_invoice, dd_payer, read_pain008


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def setup(org, today):
    payer, mandate = dd_payer(org)
    invoice = dd_invoice(org, payer, issue_date=today - dt.timedelta(days=30))
    return payer, mandate, invoice


def _date(org, today):
    return batches.default_collection_date(org, today=today)


def test_billing_creates_a_batch_and_downloads_a_valid_file(org, billing_user, setup, today):
    payer, mandate, invoice = setup
    client = login(billing_user)
    date = _date(org, today)
    page = client.get("/payments/batches/new/", {"date": date.isoformat()})
    assert page.status_code == 200 and invoice.number in page.content.decode()
    response = client.post("/payments/batches/new/", {"date": date.isoformat(), "invoice": [invoice.pk]})
    batch = DirectDebitBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/payments/batches/{batch.pk}/"
    data = b"".join(client.get(f"/payments/batches/{batch.pk}/file/").streaming_content)
    parsed = read_pain008(data)
    assert [(t["e2e"], t["amount"], t["mandate"], t["iban"]) for t in parsed["txs"]] == [
        (invoice.number, invoice.total_gross, mandate.reference, mandate.iban)
    ]
    assert client.get(f"/payments/batches/{batch.pk}/").status_code == 200
    assert client.post(f"/payments/batches/{batch.pk}/submit/").status_code == 302
    assert client.post(f"/payments/batches/{batch.pk}/settle/").status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SETTLED
    item = batch.items.get()
    client.post(f"/payments/batches/items/{item.pk}/return/", {"reason": "MD06", "date": today.isoformat()})
    item.refresh_from_db()
    assert item.return_reason == "MD06"


def test_an_organization_without_creditor_id_sees_why_and_where_to_fix_it(org, admin_user, setup, today):
    org.creditor_id = ""
    org.save()
    client = login(admin_user)
    page = client.get("/payments/batches/new/").content.decode()
    assert "/organizations/settings/" in page or "organization" in page.lower()
    response = client.post(
        "/payments/batches/new/", {"date": _date(org, today).isoformat(), "invoice": [setup[2].pk]}
    )
    assert response.status_code == 200 and not DirectDebitBatch.objects.exists()


@pytest.mark.parametrize("role", ["sales_user", "support_user", "readonly_user"])
def test_only_admin_and_billing_may_create_batches_and_mandates(request, org, setup, role, today):
    payer, mandate, invoice = setup
    client = login(request.getfixturevalue(role))
    assert client.get("/payments/batches/").status_code == 200
    assert client.get(f"/payments/mandates/{mandate.pk}/").status_code == 200
    assert client.get("/payments/batches/new/").status_code == 403
    response = client.post(
        "/payments/batches/new/", {"date": _date(org, today).isoformat(), "invoice": [invoice.pk]}
    )
    assert response.status_code == 403
    assert client.get(f"/payments/mandates/new/{payer.pk}/").status_code == 403
    assert client.post(f"/payments/mandates/{mandate.pk}/revoke/").status_code == 403
    assert not DirectDebitBatch.objects.exists()


def test_another_organizations_batches_and_mandates_are_404(org, billing_user, outsider, setup, today):
    payer, mandate, invoice = setup
    batch = batches.batch_create(
        organization=org,
        collection_date=_date(org, today),
        invoice_ids=[invoice.pk],
        user=billing_user,
        today=today,
    )
    client = login(outsider)
    for url in [
        f"/payments/batches/{batch.pk}/",
        f"/payments/batches/{batch.pk}/file/",
        f"/payments/mandates/{mandate.pk}/",
        f"/payments/mandates/{mandate.pk}/pdf/",
        f"/payments/mandates/new/{payer.pk}/",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [f"/payments/batches/{batch.pk}/submit/", f"/payments/batches/{batch.pk}/cancel/"]:
        assert client.post(url).status_code == 404
    assert batch.items.get().status == "pending"
    # Their own new batch does not see our invoice.
    response = client.post(
        "/payments/batches/new/", {"date": _date(org, today).isoformat(), "invoice": [invoice.pk]}
    )
    assert response.status_code == 200 and DirectDebitBatch.objects.count() == 1


def test_a_mandate_is_created_amended_and_printed(org, billing_user, today):
    payer = CustomerFactory(organization=org, name="Müller Druck GmbH", payment_method="bank_transfer")
    client = login(billing_user)
    assert client.get(f"/payments/mandates/new/{payer.pk}/").status_code == 200
    response = client.post(
        f"/payments/mandates/new/{payer.pk}/",
        {
            "reference": "M-MUELLER-1",
            "signed_on": today.strftime("%d.%m.%Y"),
            "scheme": "CORE",
            "debtor_name": "Müller Druck GmbH",
            "iban": "DE02 1203 0000 0000 2020 51",
            "bic": "",
        },
    )
    mandate = SepaMandate.objects.get()
    assert response.status_code == 302
    assert (mandate.iban, mandate.bic) == (IBANS[0], "BYLADEM1001")
    bad = client.post(
        f"/payments/mandates/{mandate.pk}/change/",
        {"reference": "M-MÜLLER//1", "debtor_name": "Müller Druck GmbH", "iban": IBANS[0]},
    )
    assert bad.status_code == 200 and "35" in bad.content.decode()
    pdf = client.get(f"/payments/mandates/{mandate.pk}/pdf/")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in [
        "SEPA-Lastschriftmandat",
        org.creditor_id,
        "M-MUELLER-1",
        "DE02 1203 0000 0000 2020 51",
        "Unterschrift",
    ]:
        assert expected in text, expected


def test_gocardless_export_marks_invoices_pending_and_reads_back(org, billing_user, today):
    import csv

    payer = CustomerFactory(
        organization=org, payment_method="gocardless", gocardless_mandate_id="MD000123ABC"
    )
    invoice = dd_invoice(
        org, payer, "59.50", issue_date=today - dt.timedelta(days=10), payment_method="gocardless"
    )
    client = login(billing_user)
    date = _date(org, today)
    client.post(
        "/payments/batches/new/", {"kind": "gocardless", "date": date.isoformat(), "invoice": [invoice.pk]}
    )
    batch = DirectDebitBatch.objects.get(kind="gocardless")
    data = b"".join(client.get(f"/payments/batches/{batch.pk}/file/").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    assert rows == [
        {
            "mandate_id": "MD000123ABC",
            "customer_id": payer.number,
            "amount": "59.50",
            "currency": "EUR",
            "description": f"Rechnung {invoice.number} vom {invoice.issue_date:%d.%m.%Y}",
            "charge_date": date.isoformat(),
        }
    ]
    assert batches.gocardless_candidates(organization=org, charge_date=date) == []


def test_mandate_export_mirrors_gocardless_import_columns(org, billing_user, setup):
    import csv

    payer, mandate, _invoice = setup
    client = login(billing_user)
    data = client.get("/payments/mandates/gocardless.csv").content.decode()
    [row] = list(csv.DictReader(io.StringIO(data)))
    assert row["customer.company_name"] == payer.name
    assert row["customer_bank_account.iban"] == mandate.iban
    assert row["mandate.reference"] == mandate.reference
    assert row["mandate.creditor_id"] == org.creditor_id


def test_the_shell_command_writes_the_batch_file(org, setup, today, tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    payer, mandate, invoice = setup
    out = tmp_path / "lastschrift.xml"
    date = _date(org, today)
    call_command("sepa_batch", "--org", org.slug, "--date", date.isoformat(), "--out", str(out))
    parsed = read_pain008(out.read_bytes())
    assert [t["e2e"] for t in parsed["txs"]] == [invoice.number]
    assert DirectDebitBatch.objects.get().count == 1
    with pytest.raises(CommandError, match="Nothing to collect"):
        call_command("sepa_batch", "--org", org.slug, "--date", date.isoformat(), "--out", str(out))
    with pytest.raises(CommandError, match="date"):
        call_command("sepa_batch", "--org", org.slug, "--date", "10.12.2026", "--out", str(out))


def test_the_daily_task_expires_unused_mandates(org, setup):
    from payments.tasks import mandates_expire_task

    _payer, mandate, _invoice = setup
    SepaMandate.objects.filter(pk=mandate.pk).update(signed_on=dt.date(2020, 1, 1))
    assert mandates_expire_task() == 1
    mandate.refresh_from_db()
    assert mandate.status == "expired"
    assert mandates_expire_task() == 0


def test_hostile_parameters_get_a_clear_answer(org, billing_user, setup, today):
    client = login(billing_user)
    assert client.get("/payments/mandates/", {"customer": "99999999999999999999"}).status_code == 404
    assert client.get("/payments/mandates/", {"customer": "abc", "page": "-1"}).status_code == 404
    for date in ["9999-12-31", "1899-12-31", "abc"]:
        assert client.get("/payments/batches/new/", {"date": date}).status_code == 200
    response = client.post(
        "/payments/batches/new/",
        {"date": _date(org, today).isoformat(), "invoice": ["99999999999999999999", "x"]},
    )
    assert response.status_code == 200 and not DirectDebitBatch.objects.exists()


def _new_batch_setup(org, today, count=7):
    payer, _mandate = dd_payer(org)
    return [
        dd_invoice(org, payer, f"{10 + n}.00", issue_date=today - dt.timedelta(days=30)) for n in range(count)
    ]


def test_the_new_batch_page_comes_in_pages_and_collects_all_matching_but_the_unticked(
    org, billing_user, today, monkeypatch
):
    from payments.views import batches as views

    monkeypatch.setattr(views, "NEW_PER_PAGE", 3)
    invoices = _new_batch_setup(org, today)
    client = login(billing_user)
    date = _date(org, today).isoformat()
    page = client.get("/payments/batches/new/", {"date": date})
    assert [c.invoice for c, ticked in page.context["rows"]] == invoices[:3]
    assert page.context["page"].paginator.num_pages == 3 and page.context["every"]
    html = page.content.decode()
    assert 'name="goto" value="2"' in html and invoices[3].number not in html
    first = [i.pk for i in invoices[:3]]
    # Untick the second invoice of page 1, go to page 2: the choice travels along.
    page = client.post(
        "/payments/batches/new/",
        {"date": date, "all": "1", "goto": "2", "shown": first, "invoice": [first[0], first[2]]},
    )
    assert page.status_code == 200 and not DirectDebitBatch.objects.exists()
    assert page.context["excluded"] == [first[1]] and page.context["chosen_count"] == 6
    assert [c.invoice for c, ticked in page.context["rows"]] == invoices[3:6]
    second = [i.pk for i in invoices[3:6]]
    # Untick one more on page 2 and create: every matching invoice but the two.
    response = client.post(
        "/payments/batches/new/",
        {"date": date, "all": "1", "exclude": [first[1]], "shown": second, "invoice": second[1:]},
    )
    batch = DirectDebitBatch.objects.get()
    assert response.status_code == 302
    collected = set(batch.items.values_list("document_id", flat=True))
    assert collected == {i.pk for i in invoices} - {first[1], second[0]}


def test_without_all_matching_only_the_ticked_invoices_of_the_page_are_collected(
    org, billing_user, today, monkeypatch
):
    from payments.views import batches as views

    monkeypatch.setattr(views, "NEW_PER_PAGE", 3)
    invoices = _new_batch_setup(org, today)
    shown = [i.pk for i in invoices[:3]]
    login(billing_user).post(
        "/payments/batches/new/",
        {"date": _date(org, today).isoformat(), "shown": shown, "invoice": shown[:2]},
    )
    batch = DirectDebitBatch.objects.get()
    assert set(batch.items.values_list("document_id", flat=True)) == set(shown[:2])


def test_core_and_b2b_collections_become_two_batches_with_a_file_each(org, billing_user, today):
    core_payer, _m1 = dd_payer(org, iban=IBANS[0])
    b2b_payer, _m2 = dd_payer(org, name="Meier Logistik AG", iban=IBANS[1], scheme="B2B")
    core = dd_invoice(org, core_payer, issue_date=today - dt.timedelta(days=30))
    b2b = dd_invoice(org, b2b_payer, issue_date=today - dt.timedelta(days=30))
    client = login(billing_user)
    response = client.post("/payments/batches/new/", {"date": _date(org, today).isoformat(), "all": "1"})
    assert response.status_code == 302 and response["Location"].startswith("/payments/batches/")
    made = {b.scheme: b for b in DirectDebitBatch.objects.all()}
    assert set(made) == {"CORE", "B2B"}
    for scheme, invoice in (("CORE", core), ("B2B", b2b)):
        data = b"".join(client.get(f"/payments/batches/{made[scheme].pk}/file/").streaming_content)
        parsed = read_pain008(data)
        assert {b["scheme"] for b in parsed["blocks"]} == {scheme}
        assert [t["e2e"] for t in parsed["txs"]] == [invoice.number]


def test_the_shell_command_writes_a_file_per_scheme(org, setup, today, tmp_path):
    from django.core.management import call_command

    _payer, _mandate, core = setup
    b2b_payer, _m2 = dd_payer(org, name="Meier Logistik AG", iban=IBANS[1], scheme="B2B")
    b2b = dd_invoice(org, b2b_payer, issue_date=today - dt.timedelta(days=30))
    out = tmp_path / "lastschrift.xml"
    call_command("sepa_batch", "--org", org.slug, "--date", _date(org, today).isoformat(), "--out", str(out))
    files = {"CORE": out, "B2B": tmp_path / "lastschrift-b2b.xml"}
    for scheme, invoice in (("CORE", core), ("B2B", b2b)):
        parsed = read_pain008(files[scheme].read_bytes())
        assert {b["scheme"] for b in parsed["blocks"]} == {scheme}
        assert [t["e2e"] for t in parsed["txs"]] == [invoice.number]
