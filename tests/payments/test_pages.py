"""The payments pages: recording payments, a customer's account, open items with Excel,
bank statements with review, the invoice list's payment column and the invoice panel."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from demo.camt_sample import SampleEntry, camt_xml
from payments import selectors, services
from payments.models import BankStatement, EntryStatus, Payment, StatementEntry
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_credit_note, issued_invoice, pay

D = Decimal
TODAY = dt.date(2026, 12, 1)
pytestmark = pytest.mark.usefixtures("on_ledger_day")


@pytest.fixture
def payer(org):
    return CustomerFactory(organization=org, name="Bäckerei Schulz GmbH", iban="DE89370400440532013000")


def test_it_records_a_payment_over_two_invoices_and_keeps_the_rest_as_credit(
    org, payer, billing, django_capture_on_commit_callbacks
):
    old = issued_invoice(org, payer, "100.00", issue_date=dt.date(2026, 9, 1))
    new = issued_invoice(org, payer, "50.00", issue_date=dt.date(2026, 11, 1))
    url = reverse("payments:record") + f"?payer={payer.pk}&amount=120,00"
    page = billing.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    # Pre-filled oldest due first.
    assert form.initial[f"apply_d{old.pk}"] == D("100.00") and form.initial[f"apply_d{new.pk}"] == D("20.00")
    with django_capture_on_commit_callbacks(execute=True):
        response = billing.post(
            url,
            {
                "payer": payer.pk,
                "date": "01.12.2026",
                "amount": "1.200,00",
                "channel": "transfer",
                "reference": "Überweisung",
                f"apply_d{old.pk}": "100,00",
                f"apply_d{new.pk}": "50,00",
            },
        )
    assert response.status_code == 302
    assert selectors.open_amount(old) == selectors.open_amount(new) == 0
    assert selectors.customer_credit(payer) == D("1050.00")
    assert len(mail.outbox) == 1


def test_applying_more_than_the_payment_is_refused_and_changes_nothing(org, payer, billing):
    invoice = issued_invoice(org, payer, "100.00")
    response = billing.post(
        reverse("payments:record"),
        {
            "payer": payer.pk,
            "date": "01.12.2026",
            "amount": "10,00",
            "channel": "transfer",
            f"apply_d{invoice.pk}": "50,00",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Payment.objects.exists()


def test_applying_more_than_is_open_is_a_message_not_an_error_page(org, payer, billing):
    invoice = issued_invoice(org, payer, "100.00")
    response = billing.post(
        reverse("payments:record"),
        {
            "payer": payer.pk,
            "date": "01.12.2026",
            "amount": "500,00",
            "channel": "transfer",
            f"apply_d{invoice.pk}": "300,00",
        },
    )
    assert response.status_code == 200 and not Payment.objects.exists()


def test_the_payer_search_finds_customers(org, payer, billing):
    page = billing.get(reverse("payments:record") + "?q=Schulz")
    assert payer in page.context["results"]


def test_credit_is_applied_and_refunded_from_the_customer_account(org, payer, billing, billing_user):
    first = issued_invoice(org, payer, "30.00")
    pay(org, billing_user, payer, "100.00", as_credit=True)
    page = billing.get(reverse("payments:customer", args=[payer.pk]))
    assert page.status_code == 200 and page.context["credit"] == D("100.00")
    billing.post(
        reverse("payments:credit_apply", args=[payer.pk]),
        {"item": f"d{first.pk}", "amount": "30,00", "date": "01.12.2026"},
    )
    assert selectors.open_amount(first) == 0
    billing.post(
        reverse("payments:credit_refund", args=[payer.pk]), {"amount": "70,00", "date": "01.12.2026"}
    )
    assert selectors.customer_credit(payer) == 0
    response = billing.post(
        reverse("payments:credit_refund", args=[payer.pk]),
        {"amount": "5,00", "date": "01.12.2026"},
        follow=True,
    )
    assert "error" in [m.level_tag for m in response.context["messages"]]
    assert Payment.objects.filter(kind="refund").count() == 1


def test_the_open_items_page_ages_per_customer_and_in_total(org, payer, billing):
    other = CustomerFactory(organization=org, name="Zahnarztpraxis Adler")
    issued_invoice(org, payer, "100.00", issue_date=dt.date(2026, 11, 20))  # not due
    issued_invoice(org, payer, "200.00", issue_date=dt.date(2026, 10, 20))  # 28 days
    issued_invoice(org, other, "300.00", issue_date=dt.date(2026, 7, 1))  # 139 days
    page = billing.get(reverse("payments:open_items"))
    total = page.context["total"]
    assert (
        total["not_due"] == D("100.00") and total["d1_30"] == D("200.00") and total["d90_plus"] == D("300.00")
    )
    assert total["total"] == D("600.00")
    rows = {r["payer_name"]: r for r in page.context["table"].data}
    assert rows["Bäckerei Schulz GmbH"]["total"] == D("300.00")
    filtered = billing.get(reverse("payments:open_items") + "?customer=Adler&bucket=overdue")
    assert filtered.context["total"]["total"] == D("300.00")
    bad = billing.get(reverse("payments:open_items") + "?as_of=99.99.9999&bucket=nope")
    assert bad.status_code == 200


def test_the_open_items_excel_has_real_numbers_dates_and_formula_totals(org, payer, billing, billing_user):
    a = issued_invoice(org, payer, "119.00", issue_date=dt.date(2026, 10, 1))
    issued_invoice(org, payer, "238.00", issue_date=dt.date(2026, 11, 25))
    pay(org, billing_user, payer, "19.00", a)
    response = billing.get(reverse("payments:open_items_xlsx") + "?customer=Schulz")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    sheet = book.worksheets[0]
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert len(header) == 9 and all(header)
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert rows[0][2] == a.number and rows[0][8] == 100 and isinstance(rows[0][3], dt.datetime)
    assert sheet.cell(row=2, column=9).number_format.startswith("#,##0.00")
    assert sheet.cell(row=2, column=4).number_format == "DD.MM.YYYY"
    assert rows[-1][8] == "=SUM(I2:I3)"
    ageing = book.worksheets[1]
    assert ageing.cell(row=2, column=1).value == "Bäckerei Schulz GmbH"
    assert str(ageing.cell(row=3, column=7).value).startswith("=SUM(")


def test_a_statement_is_uploaded_matched_and_reviewed_by_hand(
    org, payer, billing, django_capture_on_commit_callbacks
):
    invoice = issued_invoice(org, payer, "119.00")
    other = issued_invoice(org, payer, "40.00")
    data = camt_xml(
        [
            SampleEntry(D("119.00"), remittance=invoice.number, bank_reference="U1"),
            SampleEntry(D("40.00"), remittance="Danke", bank_reference="U2"),
        ],
        account_iban="DE02120300000000202051",
    )
    upload = SimpleUploadedFile("auszug.xml", data, content_type="application/xml")
    # The upload stores the file; the worker (eager in tests) books it after commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = billing.post(reverse("payments:statement_upload"), {"file": upload}, follow=True)
    statement = BankStatement.objects.get()
    assert response.redirect_chain[-1][0] == reverse("payments:statement", args=[statement.pk])
    assert selectors.open_amount(invoice) == 0
    entry = StatementEntry.objects.get(status=EntryStatus.UNMATCHED)
    review = billing.get(reverse("payments:statement", args=[statement.pk]) + "?show=review")
    assert list(review.context["entries"]) == [entry]
    form_page = billing.get(reverse("payments:record") + f"?entry={entry.pk}&payer={payer.pk}")
    assert form_page.context["form"].initial[f"apply_d{other.pk}"] == D("40.00")
    billing.post(
        reverse("payments:record"),
        {
            "entry": entry.pk,
            "payer": payer.pk,
            f"apply_d{other.pk}": "40,00",
            "amount": "999",
            "date": "01.01.2026",
            "channel": "cash",
        },
    )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.MATCHED and entry.payment.amount == D("40.00")
    assert entry.payment.date == entry.booking_date
    again = billing.post(
        reverse("payments:statement_upload"), {"file": SimpleUploadedFile("x.xml", data)}, follow=True
    )
    assert "warning" in [m.level_tag for m in again.context["messages"]]
    assert BankStatement.objects.count() == 1 and Payment.objects.count() == 2


def test_a_broken_file_gets_a_message_and_no_statement(billing):
    upload = SimpleUploadedFile("auszug.xml", b"<Document><oops>", content_type="application/xml")
    response = billing.post(reverse("payments:statement_upload"), {"file": upload}, follow=True)
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not BankStatement.objects.exists()


def test_the_invoice_list_shows_the_payment_state_in_constant_queries(org, payer, billing, billing_user):
    paid = issued_invoice(org, payer, "119.00", issue_date=TODAY)
    pay(org, billing_user, payer, "119.00", paid)
    issued_invoice(org, payer, "50.00", issue_date=dt.date(2026, 9, 1))
    url = reverse("documents:invoices")
    billing.get(url)
    with CaptureQueriesContext(connection) as few:
        page = billing.get(url)
    html = page.content.decode().lower()
    assert "zahlung" in html or "payment" in html
    assert "bezahlt" in html or "paid" in html
    assert "überfällig" in html or "overdue" in html
    for _ in range(10):
        issued_invoice(org, payer, "10.00")
    with CaptureQueriesContext(connection) as many:
        billing.get(url)
    assert len(many) == len(few)


def test_the_invoice_page_shows_open_amount_and_payments(org, payer, billing, billing_user):
    invoice = issued_invoice(org, payer, "119.00")
    pay(org, billing_user, payer, "19.00", invoice)
    page = billing.get(reverse("documents:detail", args=[invoice.pk]))
    [panel] = page.context["panels"].slots["side"]
    assert panel.name == "payment" and panel.data["balance"].open == D("100.00")
    assert "record/?payer=" in page.content.decode()


def test_the_mail_settings_are_saved_and_refuse_unknown_placeholders(org, billing):
    url = reverse("payments:mail_settings_save")
    bad = billing.post(url, {"enabled": "on", "subject": "{betrag}", "body": ""})
    assert bad.status_code == 200 and "{betrag}" in bad.content.decode()
    billing.post(url, {"subject": "Danke", "body": "{amount}"})
    assert services.payment_mail_settings(org).enabled is False


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("payments:record", None),
        ("payments:statement_upload", None),
        ("payments:mail_settings_save", None),
        ("payments:credit_apply", "payer"),
        ("payments:credit_refund", "payer"),
    ],
)
def test_only_admin_and_billing_may_write(org, payer, client_for, sales_user, readonly_user, name, args):
    url = reverse(name, args=[payer.pk] if args else None)
    for user in (sales_user, readonly_user):
        assert client_for(user).post(url, {"payer": payer.pk}).status_code == 403


def test_another_organizations_records_are_not_found(org, other_org, payer, client_for, outsider):
    invoice = issued_invoice(org, payer, "119.00")
    _statement = camt_xml(
        [SampleEntry(D("1.00"), bank_reference="O1")], account_iban="DE02120300000000202051"
    )
    from payments.statements import statement_import

    result = statement_import(organization=org, data=_statement, file_name="a.xml", user=None, today=TODAY)
    entry = result.statement.entries.get()
    client = client_for(outsider)
    assert client.get(reverse("payments:customer", args=[payer.pk])).status_code == 404
    assert client.get(reverse("payments:statement", args=[result.statement.pk])).status_code == 404
    assert client.get(reverse("payments:statement_file", args=[result.statement.pk])).status_code == 404
    assert client.get(reverse("payments:record") + f"?payer={payer.pk}").status_code == 404
    assert client.get(reverse("payments:record") + f"?entry={entry.pk}").status_code == 404
    assert client.post(reverse("payments:credit_refund", args=[payer.pk]), {"amount": "1"}).status_code == 404
    page = client.get(reverse("payments:open_items"))
    assert page.context["total"]["count"] == 0 and invoice.number not in page.content.decode()


def test_the_ageing_date_leaves_out_later_invoices_and_ages_on_that_day(org, payer, billing):
    issued_invoice(org, payer, "100.00", issue_date=dt.date(2026, 9, 1))  # due 15.09.
    issued_invoice(org, payer, "50.00", issue_date=dt.date(2026, 11, 20))
    page = billing.get(reverse("payments:open_items") + "?as_of=30.09.2026")
    total = page.context["total"]
    assert total["total"] == D("100.00") and total["d1_30"] == D("100.00")
    assert page.context["as_of"] == dt.date(2026, 9, 30)


def test_the_ageing_date_is_a_cut_off_for_payments_and_credit_notes(org, payer, billing, billing_user):
    paid_later = issued_invoice(org, payer, "100.00", issue_date=dt.date(2026, 9, 1))
    paid_before = issued_invoice(org, payer, "40.00", issue_date=dt.date(2026, 9, 2))
    credited_later = issued_invoice(org, payer, "60.00", issue_date=dt.date(2026, 9, 3))
    pay(org, billing_user, payer, "100.00", paid_later, date=dt.date(2026, 10, 5))
    pay(org, billing_user, payer, "15.00", paid_before, date=dt.date(2026, 9, 20))
    issued_credit_note(credited_later, "60.00", cancellation=True, issue_date=dt.date(2026, 10, 7))
    page = billing.get(reverse("payments:open_items") + "?as_of=30.09.2026")
    total = page.context["total"]
    # On 30 September the payment of 5 October and the credit note of 7 October did not exist.
    assert total["total"] == D("185.00") and total["count"] == 3
    today = billing.get(reverse("payments:open_items"))
    assert today.context["total"]["total"] == D("25.00") and today.context["total"]["count"] == 1
    on_the_day = selectors.open_items(today=dt.date(2026, 10, 5), as_of=dt.date(2026, 10, 5))
    assert {i.number: i.open for i in on_the_day} == {
        paid_before.number: D("25.00"),
        credited_later.number: D("60.00"),
    }


def test_the_open_items_page_reads_only_open_invoices_in_constant_queries(org, payer, billing, billing_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert billing.get(reverse("payments:open_items")).status_code == 200
        return len(captured)

    def add(count: int) -> None:
        for index in range(count):
            invoice = issued_invoice(org, payer, "10.00", issue_date=dt.date(2026, 10, 1))
            if index % 4:
                pay(org, billing_user, payer, "10.00", invoice, date=dt.date(2026, 10, 20))

    add(4)
    queries()  # the first request of a session reads more (session, organization)
    first = queries()
    add(40)
    assert queries() == first
    # The database hands over only the 11 invoices still open, not the 44 issued.
    candidates = selectors.with_open_amount(selectors.receivable_invoices())
    assert candidates.count() == 11
    assert selectors.receivable_invoices().count() == 44


def test_the_sidebar_leads_to_the_payments_pages(billing):
    html = billing.get(reverse("payments:payments")).content.decode()
    for name in ("payments:payments", "payments:open_items", "payments:statements"):
        assert f'href="{reverse(name)}"' in html


def test_a_long_statement_is_shown_page_by_page(org, billing):
    from payments.statements import statement_import

    entries = [SampleEntry(D("1.00") + i, bank_reference=f"P{i}") for i in range(150)]
    data = camt_xml(entries, account_iban="DE02120300000000202051")
    result = statement_import(organization=org, data=data, file_name="long.xml", user=None, today=TODAY)
    url = reverse("payments:statement", args=[result.statement.pk])
    first = billing.get(url)
    second = billing.get(url + "?page=2&show=review")
    assert len(first.context["entries"]) == 100 and len(second.context["entries"]) == 50
    assert billing.get(url + "?page=abc").status_code == 200
    original = billing.get(reverse("payments:statement_file", args=[result.statement.pk]))
    assert original.content == data and original["Content-Type"] == "application/xml"


def test_the_payments_list_filters_by_payer_channel_and_date(org, payer, billing, billing_user):
    other = CustomerFactory(organization=org, name="Adler Zahnarztpraxis")
    pay(org, billing_user, payer, "10.00", channel="cash", as_credit=True)
    pay(org, billing_user, other, "20.00", date=dt.date(2026, 11, 1), as_credit=True)
    url = reverse("payments:payments")
    assert billing.get(url).context["total"] == D("30.00")
    assert billing.get(url + "?payer=Adler").context["total"] == D("20.00")
    assert billing.get(url + "?channel=cash").context["total"] == D("10.00")
    assert billing.get(url + "?date_from=15.11.2026").context["total"] == D("10.00")
    assert billing.get(url + "?channel=bogus&date_from=x").status_code == 200
