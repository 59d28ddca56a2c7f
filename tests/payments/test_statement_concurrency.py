"""Two imports at once (PostgreSQL row locks and unique keys): each entry is booked once.

Two clerks upload the same file at the same moment, or the day's camt.054 arrives while
the month's camt.053 with the same entries is being imported: whatever the interleaving,
every entry pays its invoice once and nothing is left half-written.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from demo.camt_sample import SampleEntry, camt_xml
from payments import selectors, statements
from payments.models import BankStatement, Payment, StatementEntry
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACCOUNT = "DE02120300000000202051"
TODAY = dt.date(2026, 12, 2)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent imports need PostgreSQL row locks (set DATABASE_URL=postgres://...)")


def _import_in_threads(org, user, files: list[bytes]):
    barrier = threading.Barrier(len(files))
    results, errors = [], []
    lock = threading.Lock()

    def work(data, index):
        try:
            with scopes_disabled():
                organization = type(org).objects.get(pk=org.pk)
            with scope(organization=organization):
                barrier.wait()
                result = statements.statement_import(
                    organization=organization, data=data, file_name=f"f{index}.xml", user=user, today=TODAY
                )
                with lock:
                    results.append(result)
        except BaseException as exc:  # noqa: BLE001
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(data, i)) for i, data in enumerate(files)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.fixture
def invoices(org):
    payers = [CustomerFactory(organization=org) for _ in range(5)]
    return [issued_invoice(org, payers[i % 5], "100.00") for i in range(40)]


def _entries(invoices):
    return [
        SampleEntry(Decimal("100.00"), remittance=inv.number, bank_reference=f"B{i:04d}")
        for i, inv in enumerate(invoices)
    ]


def test_the_same_file_imported_twice_at_once_books_each_entry_once(org, billing_user, invoices):
    data = camt_xml(_entries(invoices), account_iban=ACCOUNT)
    results, errors = _import_in_threads(org, billing_user, [data, data])
    assert not errors, errors
    assert sorted(r.created for r in results) == [False, True]
    with scopes_disabled():
        assert BankStatement.objects.count() == 1
        assert Payment.objects.count() == len(invoices) == StatementEntry.objects.count()
        with scope(organization=org):
            assert all(v == 0 for v in selectors.open_amounts(invoices).values())


def test_two_files_with_the_same_entries_at_once_book_each_entry_once(org, billing_user, invoices):
    entries = _entries(invoices)
    # Overlapping, in a different order: the day's notification and the month's statement.
    notification = camt_xml(
        list(reversed(entries[:30])), account_iban=ACCOUNT, version="camt.054.001.08", statement_id="N"
    )
    statement = camt_xml(entries, account_iban=ACCOUNT, version="camt.053.001.02", statement_id="S")
    results, errors = _import_in_threads(org, billing_user, [notification, statement])
    assert not errors, errors
    assert all(r.created for r in results)
    with scopes_disabled():
        assert Payment.objects.count() == len(invoices)
        assert StatementEntry.objects.count() == len(invoices)
        assert sum(r.known for r in results) == 30
        with scope(organization=org):
            opens = selectors.open_amounts(invoices)
        assert all(v == 0 for v in opens.values()), opens
