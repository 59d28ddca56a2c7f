"""The billing run against the database: what is due, stored once, on the right invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import BillingCharge, RunStatus
from folders.models import RecurringLine
from organizations.system_texts import render_text
from tests.billing import factories as f
from tests.billing.helpers import bill, charges, credit_notes, invoices, lines_of

D = Decimal
NOV = dt.date(2026, 11, 1)

pytestmark = pytest.mark.django_db


def test_it_bills_an_in_advance_line_for_the_month_that_starts(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="100.00", start=dt.date(2026, 11, 1))
    run = bill(org, NOV)
    assert run.status == RunStatus.DONE
    [invoice] = invoices(org, run)
    assert invoice.payer == folder.customer
    assert invoice.number.startswith("RE-2026-")
    assert lines_of(invoice) == [
        ("SIP-Trunk Business", dt.date(2026, 11, 1), dt.date(2026, 11, 30), D("1.000"), D("100.00"))
    ]
    assert (invoice.total_net, invoice.total_tax, invoice.total_gross) == (
        D("100.00"),
        D("19.00"),
        D("119.00"),
    )
    line.refresh_from_db()
    assert line.billed_through == dt.date(2026, 11, 30)
    assert charges(line) == [(NOV, "period", NOV, dt.date(2026, 11, 30), D("100.00"))]
    assert run.invoices_count == 1 and run.total_gross == D("119.00")


def test_running_the_same_month_twice_makes_no_new_invoice(org):
    folder = f.folder(org)
    f.recurring(folder, start=dt.date(2026, 11, 1))
    bill(org, NOV)
    second = bill(org, NOV)
    assert second.status == RunStatus.DONE
    assert second.invoices_count == 0
    assert len(invoices(org)) == 1
    assert BillingCharge.objects.count() == 1


def test_the_database_refuses_a_second_charge_for_the_same_period(org):
    folder = f.folder(org)
    line = f.recurring(folder, start=dt.date(2026, 11, 1))
    bill(org, NOV)
    charge = BillingCharge.objects.get()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        BillingCharge.objects.create(
            organization=org,
            recurring_line=line,
            period_start=charge.period_start,
            period_end=charge.period_end,
            kind="period",
            service_start=charge.service_start,
            service_end=charge.service_end,
            quantity=1,
            unit_price=1,
            amount=1,
        )


def test_it_bills_an_in_arrears_line_for_the_period_that_ended(org):
    folder = f.folder(org)
    f.recurring(folder, price="60.00", timing="arrears", start=dt.date(2026, 10, 1))
    assert bill(org, dt.date(2026, 10, 1)).invoices_count == 0  # October has not ended yet
    [invoice] = invoices(org, bill(org, NOV))
    assert lines_of(invoice) == [
        ("SIP-Trunk Business", dt.date(2026, 10, 1), dt.date(2026, 10, 31), D("1.000"), D("60.00"))
    ]


def test_it_prorates_a_line_starting_mid_month_by_days(org):
    folder = f.folder(org)
    f.recurring(folder, price="30.00", quantity="2", start=dt.date(2026, 11, 16))
    [invoice] = invoices(org, bill(org, NOV))
    [line] = invoice.lines.all()
    assert (line.service_start, line.service_end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 30))
    assert line.net == D("30.00")  # 2 x 30.00 x 15/30
    assert line.quantity * line.unit_price == D("30.00")
    assert "anteilig 15 von 30 Tagen" in line.detail


def test_a_trial_is_free_and_billing_starts_the_day_after(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="31.00", start=dt.date(2026, 10, 1), trial_end=dt.date(2026, 12, 10))
    run = bill(org, NOV)
    assert run.invoices_count == 0
    assert [(s.reason, s.until) for s in run.skips.all()] == [("trial", dt.date(2026, 12, 10))]
    [invoice] = invoices(org, bill(org, dt.date(2026, 12, 1)))
    assert lines_of(invoice) == [
        ("SIP-Trunk Business", dt.date(2026, 12, 11), dt.date(2026, 12, 31), D("1.000"), D("21.00"))
    ]
    assert charges(line)[0][1] == "period"


def test_the_setup_fee_is_charged_once_with_the_first_period(org):
    folder = f.folder(org)
    f.recurring(folder, price="50.00", start=dt.date(2026, 11, 1), setup_fee="149.00")
    [first] = invoices(org, bill(org, NOV))
    assert [(ln.description, ln.net) for ln in first.lines.all()] == [
        ("SIP-Trunk Business", D("50.00")),
        ("Einrichtung: SIP-Trunk Business", D("149.00")),
    ]
    [second] = invoices(org, bill(org, dt.date(2026, 12, 1)))
    assert [ln.net for ln in second.lines.all()] == [D("50.00")]


def test_a_mid_period_change_credits_the_old_and_charges_the_new_version(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="10.00", quantity="3", start=dt.date(2026, 11, 1))
    bill(org, NOV)
    f.change(line, effective_from=dt.date(2026, 11, 16), quantity="5")
    [invoice] = invoices(org, bill(org, dt.date(2026, 12, 1)))
    rows = [(ln.service_start, ln.service_end, ln.quantity, ln.net) for ln in invoice.lines.all()]
    assert rows == [
        (dt.date(2026, 11, 16), dt.date(2026, 11, 30), D("-3.000"), D("-15.00")),
        (dt.date(2026, 11, 16), dt.date(2026, 11, 30), D("5.000"), D("25.00")),
        (dt.date(2026, 12, 1), dt.date(2026, 12, 31), D("5.000"), D("50.00")),
    ]
    kinds = [c[1] for c in charges(line)]
    change_id = line.changes.get().pk
    assert kinds == ["period", f"change-credit:{change_id}", f"change-charge:{change_id}", "period"]


def test_a_cancelled_folder_is_billed_up_to_its_end_date(org):
    folder = f.folder(org, end_date=dt.date(2026, 12, 15))
    f.recurring(folder, price="31.00", start=dt.date(2026, 11, 1))
    bill(org, NOV)
    [december] = invoices(org, bill(org, dt.date(2026, 12, 1)))
    assert lines_of(december) == [
        ("SIP-Trunk Business", dt.date(2026, 12, 1), dt.date(2026, 12, 15), D("1.000"), D("15.00"))
    ]
    assert bill(org, dt.date(2027, 1, 1)).invoices_count == 0


def test_a_notice_received_after_billing_credits_the_unused_days(org):
    folder = f.folder(org)
    f.recurring(folder, price="30.00", start=dt.date(2026, 11, 1))
    bill(org, NOV)
    folder.end_date = dt.date(2026, 11, 20)
    folder.save()
    [credit] = credit_notes(org, bill(org, dt.date(2026, 12, 1)))  # never a negative invoice
    assert lines_of(credit) == [
        ("SIP-Trunk Business", dt.date(2026, 11, 21), dt.date(2026, 11, 30), D("-1.000"), D("-10.00"))
    ]


def test_an_automatically_renewed_contract_goes_on_being_billed(org):
    folder = f.folder(org, start_date=dt.date(2025, 12, 1), minimum_term_months=12, auto_renew=True)
    f.recurring(folder, price="20.00", start=dt.date(2025, 12, 1))
    bill(org, dt.date(2026, 11, 1))
    [invoice] = invoices(org, bill(org, dt.date(2026, 12, 1)))  # the renewed term
    assert lines_of(invoice)[-1][1:3] == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_billed_through_only_moves_forward(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="30.00", start=dt.date(2026, 11, 1))
    bill(org, dt.date(2026, 12, 1))
    line.refresh_from_db()
    assert line.billed_through == dt.date(2026, 12, 31)
    folder.end_date = dt.date(2026, 11, 20)
    folder.save()
    bill(org, dt.date(2027, 1, 1))  # credits the unused days ...
    assert RecurringLine.objects.get(pk=line.pk).billed_through == dt.date(
        2026, 12, 31
    )  # ... but never moves back


def test_a_line_taken_over_with_billed_through_but_no_history_is_not_billed_twice(org):
    folder = f.folder(org)
    line = f.recurring(folder, price="40.00", start=dt.date(2025, 1, 1), setup_fee="99.00")
    RecurringLine.objects.filter(pk=line.pk).update(billed_through=dt.date(2026, 10, 31))
    [invoice] = invoices(org, bill(org, NOV))
    assert lines_of(invoice) == [
        ("SIP-Trunk Business", dt.date(2026, 11, 1), dt.date(2026, 11, 30), D("1.000"), D("40.00"))
    ]


def test_a_taken_over_line_stays_settled_after_its_first_runs_here(org):
    """Billed by an earlier system through December (setup fee included there): months of
    runs here bill only new quarters, however far billed_through moves on."""
    folder = f.folder(org)
    line = f.recurring(folder, price="300.00", cycle=3, start=dt.date(2025, 2, 4), setup_fee="99.00")
    RecurringLine.objects.filter(pk=line.pk).update(billed_through=dt.date(2026, 12, 31))
    for month in (1, 2, 3, 4, 4, 5):
        bill(org, dt.date(2027, month, 1))
    assert charges(line) == [
        (dt.date(2027, 1, 1), "period", dt.date(2027, 1, 1), dt.date(2027, 3, 31), D("300.00")),
        (dt.date(2027, 4, 1), "period", dt.date(2027, 4, 1), dt.date(2027, 6, 30), D("300.00")),
    ]
    line.refresh_from_db()
    assert line.billed_elsewhere_through == dt.date(2026, 12, 31)
    assert line.billed_through == dt.date(2027, 6, 30)


def test_a_change_inside_the_taken_over_months_is_refused(org, admin_user):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    from folders.services import recurring_line_change

    folder = f.folder(org)
    line = f.recurring(folder, price="50.00", start=dt.date(2026, 1, 1))
    RecurringLine.objects.filter(pk=line.pk).update(billed_through=dt.date(2026, 10, 31))
    bill(org, NOV)
    line.refresh_from_db()
    assert line.billed_elsewhere_through == dt.date(2026, 10, 31)
    with translation.override("de"), pytest.raises(ValidationError) as exc:
        recurring_line_change(
            line=line,
            user=admin_user,
            effective_from=dt.date(2026, 6, 1),
            quantity=D("2"),
            unit_price=D("50"),
        )
    assert "vom früheren System abgerechnet" in exc.value.message_dict["effective_from"][0]
    assert not line.changes.exists()
    # From November on the change is this system's to bill: a credit and a new charge.
    recurring_line_change(
        line=line, user=admin_user, effective_from=dt.date(2026, 11, 16), quantity=D("2"), unit_price=D("50")
    )
    bill(org, dt.date(2026, 12, 1))
    kinds = [c[1] for c in charges(line)]
    assert kinds.count("period") == 2 and len(kinds) == 4


def test_it_catches_up_months_that_were_not_run(org):
    folder = f.folder(org)
    f.recurring(folder, price="10.00", start=dt.date(2026, 9, 1))
    [invoice] = invoices(org, bill(org, NOV))
    assert [(ln.service_start, ln.net) for ln in invoice.lines.all()] == [
        (dt.date(2026, 9, 1), D("10.00")),
        (dt.date(2026, 10, 1), D("10.00")),
        (dt.date(2026, 11, 1), D("10.00")),
    ]


def test_quarterly_and_yearly_lines_are_billed_for_their_whole_period(org):
    folder = f.folder(org)
    f.recurring(folder, price="300.00", cycle=3, start=dt.date(2026, 10, 1), description="Wartung Quartal")
    f.recurring(folder, price="1200.00", cycle=12, start=dt.date(2026, 1, 1), description="Lizenz Jahr")
    [invoice] = invoices(org, bill(org, dt.date(2026, 10, 1)))
    assert [(ln.description, ln.service_start, ln.service_end, ln.net) for ln in invoice.lines.all()] == [
        ("Wartung Quartal", dt.date(2026, 10, 1), dt.date(2026, 12, 31), D("300.00")),
        ("Lizenz Jahr", dt.date(2026, 1, 1), dt.date(2026, 12, 31), D("1200.00")),
    ]
    assert bill(org, NOV).invoices_count == 0


def test_a_run_never_issues_invoices_dated_before_the_newest_invoice(org):
    from django.core.exceptions import ValidationError

    from billing.models import BillingRun

    f.recurring(f.folder(org), start=dt.date(2026, 11, 1))
    bill(org, NOV, as_of=dt.date(2026, 11, 20))
    f.recurring(f.folder(org), start=dt.date(2026, 12, 1))
    with pytest.raises(ValidationError) as exc:
        bill(org, dt.date(2026, 12, 1), as_of=dt.date(2026, 11, 10))
    assert "20.11.2026" in exc.value.message_dict["as_of"][0]
    assert BillingRun.objects.count() == 1
    later = invoices(org, bill(org, dt.date(2026, 12, 1), as_of=dt.date(2026, 11, 20)))
    assert len(later) == 2 and {i.issue_date for i in later} == {dt.date(2026, 11, 20)}


def test_the_bill_command_explains_a_malformed_date(org):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="2026-11-01"):
        call_command("bill", "--period", "2026-11", "--as-of", "2026-13-01")


def test_after_the_run_invoices_go_out_by_the_payers_delivery_method(org, mailoutbox):
    from django.test import TestCase

    from billing.services import billing_run_start
    from documents.models import DocumentStatus

    by_mail = f.customer(org, delivery_method="email_pdf", invoice_email="rechnung@kunde.example")
    by_post = f.customer(org, delivery_method="post", invoice_email="")
    no_address = f.customer(org, delivery_method="email_pdf", invoice_email="", email="")
    for payer in (by_mail, by_post, no_address):
        f.recurring(f.folder(org, payer), start=NOV)
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = billing_run_start(organization=org, period=NOV, user=None, as_of=NOV, render_pdfs=True)
    run.refresh_from_db()
    # The payer without an e-mail address is not billed: it is listed on the run to fix.
    assert (run.invoices_count, run.failed_count) == (2, 1)
    [mail] = mailoutbox
    assert mail.to == ["rechnung@kunde.example"]
    [(name, content, mimetype)] = mail.attachments
    assert mimetype == "application/pdf" and content.startswith(b"%PDF")
    sent = {i.payer_id: i.status for i in invoices(org, run)}
    assert sent == {
        by_mail.pk: DocumentStatus.SENT,
        by_post.pk: DocumentStatus.ISSUED,
    }
    last = render_text(run.log[-1]["message"])
    assert "1" in last and "Post: 1" in last
    # Dispatching again sends nothing twice.
    from billing.services import billing_run_dispatch

    assert billing_run_dispatch(run.pk) == {"post": 1}
    assert len(mailoutbox) == 1


def test_run_invoices_greet_the_invoice_recipient_as_single_invoices_do(org):
    from tests.customers.factories import ContactFactory

    payer = f.customer(org)
    ContactFactory(
        customer=payer, first_name="Petra", last_name="Nowak", salutation="ms", is_invoice_recipient=True
    )
    f.recurring(f.folder(org, payer), start=NOV)
    [invoice] = invoices(org, bill(org, NOV))
    assert invoice.intro_text.startswith("Sehr geehrte Frau Nowak,")
