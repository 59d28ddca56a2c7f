"""Two clerks approving the same dunning run at once (PostgreSQL row locks): each payer
gets one letter and one fee, each invoice one notice per level, numbers without gaps."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django_scopes import scopes_disabled

from documents import dunning as letters
from documents.models import Document, DocumentKind
from payments import dunning_services as services
from payments.models import Charge, DunningNotice
from tests.customers.factories import CustomerFactory
from tests.payments.factories import issued_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent approval needs PostgreSQL row locks (set DATABASE_URL=postgres://...)")


def test_two_approvals_at_once_dun_each_invoice_once(org, billing_user, admin_user, monkeypatch):
    monkeypatch.setattr(letters, "schedule_pdf", lambda *args: None)
    payers = [CustomerFactory(organization=org, name=f"Kunde {n}", delivery_method="post") for n in range(3)]
    invoices = [issued_invoice(org, payer, issue_date=dt.date(2026, 11, 2)) for payer in payers]
    services.dunning_levels_save(organization=org, user=billing_user, values={1: {"fee": "1.50"}})
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def work(user):
        try:
            with scopes_disabled():
                barrier.wait()
                services.dunning_run_approve(
                    organization=org, user=user, payer_ids=[p.pk for p in payers], today=TODAY
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(user,)) for user in (billing_user, admin_user)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with scopes_disabled():
        assert sorted(DunningNotice.objects.values_list("invoice_id", flat=True)) == sorted(
            i.pk for i in invoices
        )
        numbers = sorted(
            Document.objects.filter(kind=DocumentKind.DUNNING_LETTER).values_list("number", flat=True)
        )
        assert numbers == [f"MA-2026-{n:05}" for n in (1, 2, 3)]
        assert Charge.objects.count() == 3
