"""Two clerks create a direct-debit batch with the same invoice at the same moment
(PostgreSQL row locks): one batch gets it, the other is refused with a message, and the
invoice is in exactly one pending collection."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scopes_disabled

from payments import batches
from payments.models import DirectDebitBatch, DirectDebitItem, ItemStatus
from tests.payments.sepa_helpers import COLLECT, TODAY, dd_invoice, dd_payer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent batches need PostgreSQL row locks (set DATABASE_URL=postgres://...)")


def _in_threads(org, user, invoice_sets, monkeypatch):
    barrier = threading.Barrier(len(invoice_sets))
    results: list[object] = []
    lock = threading.Lock()
    real_lock = batches._lock

    def slow_lock(ids):
        # Both transactions start, then race for the rows.
        barrier.wait(timeout=30)
        real_lock(ids)

    monkeypatch.setattr(batches, "_lock", slow_lock)

    def work(ids):
        try:
            with scopes_disabled():
                batch = batches.batch_create(
                    organization=org, collection_date=COLLECT, invoice_ids=ids, user=user, today=TODAY
                )
            outcome: object = batch.pk
        except ValidationError as exc:
            outcome = exc
        except BaseException as exc:  # noqa: BLE001
            outcome = exc
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=work, args=(ids,)) for ids in invoice_sets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_batches_at_once_never_take_the_same_invoice(org, billing_user, monkeypatch):
    from payments.mandates import payment_settings_for

    payment_settings_for(org)
    payer, _m = dd_payer(org)
    other, _m2 = dd_payer(org, name="Meier AG", iban="DE02500105170137075030")
    shared = dd_invoice(org, payer)
    own = dd_invoice(org, other)
    results = _in_threads(org, billing_user, [[shared.pk], [shared.pk, own.pk]], monkeypatch)
    created = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1 and len(refused) == 1, results
    with scopes_disabled():
        assert DirectDebitBatch.objects.count() == 1
        assert DirectDebitItem.objects.filter(document=shared, status=ItemStatus.PENDING).count() == 1
