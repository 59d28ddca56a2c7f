import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo.camt_sample import SampleEntry, camt_xml
from payments import selectors, services, statements
from payments.models import Allocation, ChargeKind, Payment, PaymentChannel
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_credit_note, issued_invoice, pay

D = Decimal
TODAY = dt.date(2026, 12, 1)


@pytest.fixture
def payer(org):
    return CustomerFactory(organization=org, name="Bäckerei Schulz GmbH")


def test_a_partial_payment_leaves_the_rest_open_and_the_invoice_partly_paid(org, payer, billing_user):
    invoice = issued_invoice(org, payer, "119.00", issue_date=TODAY, due_days=14)
    pay(org, billing_user, payer, D("50.00"), invoice)
    balance = selectors.invoice_balance(invoice, today=TODAY)
    assert balance.open == D("69.00")
    assert balance.state == selectors.InvoiceState.PARTLY_PAID


def test_an_unpaid_invoice_past_its_due_date_is_overdue_and_aged(org, payer):
    invoice = issued_invoice(org, payer, "238.00", issue_date=dt.date(2026, 9, 1), due_days=14)
    balance = selectors.invoice_balance(invoice, today=TODAY)
    assert balance.state == selectors.InvoiceState.OVERDUE
    [item] = selectors.open_items(today=TODAY, payer=payer)
    assert item.days_overdue == (TODAY - dt.date(2026, 9, 15)).days
    assert item.bucket == "d61_90"


def test_money_without_instructions_pays_the_oldest_first_and_the_rest_is_credit(org, payer, billing_user):
    old = issued_invoice(org, payer, "100.00", issue_date=dt.date(2026, 10, 1))
    new = issued_invoice(org, payer, "100.00", issue_date=dt.date(2026, 11, 1))
    pay(org, billing_user, payer, D("250.00"))
    assert selectors.open_amount(old) == 0 and selectors.open_amount(new) == 0
    assert selectors.customer_credit(payer) == D("50.00")
    later = issued_invoice(org, payer, "30.00", issue_date=TODAY)
    services.credit_apply(
        organization=org, payer=payer, receivable=later, amount=D("30.00"), date=TODAY, user=billing_user
    )
    assert selectors.open_amount(later) == 0
    assert selectors.customer_credit(payer) == D("20.00")
    services.credit_refund(organization=org, payer=payer, amount=D("20.00"), date=TODAY, user=billing_user)
    assert selectors.customer_credit(payer) == 0


def test_more_than_is_open_is_refused_and_changes_nothing(org, payer, billing_user):
    invoice = issued_invoice(org, payer, "119.00")
    with pytest.raises(ValidationError):
        pay(org, billing_user, payer, D("200.00"), invoice)
    assert not Payment.objects.exists() and not Allocation.objects.exists()


def test_an_invoice_of_another_payer_cannot_be_paid_by_this_one(org, payer, billing_user):
    other = CustomerFactory(organization=org)
    invoice = issued_invoice(org, other, "119.00")
    with pytest.raises(ValidationError):
        pay(org, billing_user, payer, D("119.00"), invoice, channel=PaymentChannel.CASH)


def test_a_return_reopens_the_invoice_and_books_the_fee_apart(org, payer, billing_user):
    invoice = issued_invoice(org, payer, "119.00")
    pay(org, billing_user, payer, D("119.00"), invoice, channel=PaymentChannel.DIRECT_DEBIT)
    services.return_record(
        organization=org,
        invoice=invoice,
        amount=D("119.00"),
        date=TODAY,
        reason="AC04",
        user=billing_user,
        fee=D("3.50"),
    )
    assert selectors.open_amount(invoice) == D("119.00")
    [fee] = [i for i in selectors.open_items(today=TODAY, payer=payer) if i.charge]
    assert fee.kind == ChargeKind.RETURN_FEE and fee.open == D("3.50")
    assert selectors.customer_credit(payer) == 0


def test_a_credit_note_lowers_what_is_open(org, payer):
    invoice = issued_invoice(org, payer, "238.00")
    issued_credit_note(invoice, "119.00")
    assert selectors.open_amount(invoice) == D("119.00")
    issued_credit_note(invoice, "119.00")
    assert selectors.invoice_balance(invoice, today=TODAY).state == selectors.InvoiceState.CREDITED


cents = st.integers(min_value=1, max_value=50_000).map(lambda c: D(c) / 100)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("invoice"), cents),
        st.tuples(st.just("pay"), st.integers(0, 5), cents),
        st.tuples(st.just("pay_any"), cents),
        st.tuples(st.just("return"), st.integers(0, 5), cents),
        st.tuples(st.just("credit_note"), st.integers(0, 5), cents),
        st.tuples(st.just("apply"), st.integers(0, 5), cents),
        st.tuples(st.just("refund"), cents),
        st.tuples(st.just("fee"), cents),
        st.tuples(st.just("statement"), st.integers(0, 5), cents, st.booleans()),
        st.tuples(st.just("statement_return"), st.integers(0, 5), cents),
        st.tuples(st.just("statement_again"), st.integers(0, 5)),
    ),
    max_size=14,
)


def _import(org, user, data):
    statements.statement_import(organization=org, data=data, file_name="h.xml", user=user, today=TODAY)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_money_is_conserved_whatever_happens(org, billing_user, steps):
    payer = CustomerFactory(organization=org)
    invoices = []
    credited: dict[int, Decimal] = {}
    files: list[bytes] = []
    for step in steps:
        kind, *args = step
        try:
            if kind == "statement_again" and files:
                before = (Payment.objects.count(), Allocation.objects.count())
                _import(org, billing_user, files[args[0] % len(files)])
                assert (Payment.objects.count(), Allocation.objects.count()) == before
            elif kind in ("statement", "statement_return") and invoices:
                invoice = invoices[args[0] % len(invoices)]
                entry = SampleEntry(
                    args[1],
                    credit=kind == "statement",
                    remittance=invoice.number if kind == "statement_return" or args[2] else "Zahlung",
                    return_reason="MD06" if kind == "statement_return" else "",
                    bank_reference=f"H{len(files)}",
                )
                files.append(
                    camt_xml([entry], account_iban="DE02120300000000202051", statement_id=f"S{len(files)}")
                )
                _import(org, billing_user, files[-1])
            elif kind == "invoice":
                invoices.append(issued_invoice(org, payer, str(args[0])))
            elif kind == "fee":
                services.charge_add(
                    organization=org,
                    payer=payer,
                    kind=ChargeKind.DUNNING_FEE,
                    amount=args[0],
                    date=TODAY,
                    due_date=TODAY,
                    text="Mahngebühr",
                    user=billing_user,
                )
            elif kind == "pay_any":
                pay(org, billing_user, payer, args[0])
            elif kind == "refund":
                services.credit_refund(
                    organization=org, payer=payer, amount=args[0], date=TODAY, user=billing_user
                )
            elif invoices:
                invoice = invoices[args[0] % len(invoices)]
                if kind == "pay":
                    pay(org, billing_user, payer, args[1], invoice)
                elif kind == "return":
                    services.return_record(
                        organization=org,
                        invoice=invoice,
                        amount=args[1],
                        date=TODAY,
                        reason="MD06",
                        user=billing_user,
                    )
                elif kind == "apply":
                    services.credit_apply(
                        organization=org,
                        payer=payer,
                        receivable=invoice,
                        amount=args[1],
                        date=TODAY,
                        user=billing_user,
                    )
                elif kind == "credit_note" and selectors.open_amount(invoice) >= args[1]:
                    issued_credit_note(invoice, str(args[1]))
                    credited[invoice.pk] = credited.get(invoice.pk, D(0)) + args[1]
        except ValidationError:
            pass
    items = selectors.open_items(today=TODAY, payer=payer)
    for invoice in invoices:
        allocations = Allocation.objects.filter(document=invoice)
        paid = sum((a.amount for a in allocations if a.amount > 0), D(0))
        returned = -sum((a.amount for a in allocations if a.amount < 0), D(0))
        expected = invoice.total_gross - paid + returned - credited.get(invoice.pk, D(0))
        assert selectors.open_amount(invoice) == expected
        assert D(0) <= expected <= invoice.total_gross
    assert selectors.customer_credit(payer) >= 0
    for payment in Payment.objects.filter(payer=payer, kind="receipt"):
        assert sum((a.amount for a in payment.allocations.all()), D(0)) <= payment.amount
    assert selectors.customer_balance(payer, today=TODAY) == sum(
        (i.open for i in items), D(0)
    ) - selectors.customer_credit(payer)
