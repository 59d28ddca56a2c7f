"""Gap-free numbers under concurrency (PostgreSQL row locks; DESIGN.md section 4).

Many workers issue invoices at the same time: every number is used once, the range has
no gap, numbers follow the order in which the issuing transactions commit, and an issue
that fails after it took its number gives the number back.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django_scopes import scopes_disabled

from documents import services
from documents.models import Document, DocumentKind
from documents.services import drafts
from folders.models import OneOffLine
from organizations.models import NumberSequence
from tests.documents.factories import FolderFactory, deliver, oneoff

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 10


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent issuing needs PostgreSQL row locks (set DATABASE_URL=postgres://...)")


@pytest.fixture
def slow_issue(monkeypatch):
    """Hold the number lock a little longer (the audit write happens after the number is
    taken) and skip PDF rendering, so the threads really overlap and the test is quick."""
    real_audit = drafts.audit_log

    def audit(**kwargs):
        time.sleep(0.02)
        return real_audit(**kwargs)

    monkeypatch.setattr(drafts, "audit_log", audit)
    monkeypatch.setattr(drafts, "schedule_pdf", lambda *args: None)
    return monkeypatch


def _counter(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def _issue_in_threads(folders, user, *, fail_for=frozenset()):
    barrier = threading.Barrier(len(folders))
    committed: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(folder):
        try:
            with scopes_disabled():
                barrier.wait()
                holder: list[str] = []
                with transaction.atomic():
                    # Registered first, so it runs right after COMMIT, before anything else.
                    transaction.on_commit(lambda: _append(holder))
                    deliver(folder)
                    invoice = services.invoice_oneoff_now(folder=folder, user=user)
                    holder.append(invoice.number)
                    if folder.pk in fail_for:
                        raise RuntimeError("worker died after taking its number")
        except BaseException as exc:  # noqa: BLE001
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    def _append(holder):
        with lock:
            committed.append(holder[0])

    threads = [threading.Thread(target=work, args=(folder,)) for folder in folders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return committed, errors


def _folders(org, count):
    folders = []
    for _ in range(count):
        folder = FolderFactory(organization=org)
        oneoff(folder, equipment=False, unit_price="100.00")
        folders.append(folder)
    return folders


def test_parallel_issuing_gives_unique_contiguous_numbers_in_commit_order(org, admin_user, slow_issue):
    folders = _folders(org, WORKERS)
    committed, errors = _issue_in_threads(folders, admin_user)
    assert not errors, errors
    with scopes_disabled():
        numbers = list(Document.objects.filter(kind=DocumentKind.INVOICE).values_list("number", flat=True))
        assert NumberSequence.objects.get(organization=org, kind="invoice").last_number == WORKERS
    assert len(numbers) == len(set(numbers)) == WORKERS
    assert sorted(_counter(n) for n in numbers) == list(range(1, WORKERS + 1))
    # The order in which the transactions committed is the order of the numbers.
    assert [_counter(n) for n in committed] == list(range(1, WORKERS + 1))


def test_a_failed_issue_after_taking_its_number_leaves_no_gap(org, admin_user, slow_issue):
    folders = _folders(org, WORKERS)
    failing = {folders[2].pk, folders[5].pk}
    committed, errors = _issue_in_threads(folders, admin_user, fail_for=failing)
    assert len(errors) == 2 and all(isinstance(e, RuntimeError) for e in errors)
    ok = WORKERS - 2
    with scopes_disabled():
        numbers = list(Document.objects.filter(kind=DocumentKind.INVOICE).values_list("number", flat=True))
        assert NumberSequence.objects.get(organization=org, kind="invoice").last_number == ok
        # The failed folders' lines were not marked invoiced either (one transaction).
        assert not OneOffLine.objects.filter(
            folder_id__in=failing, invoice_document_id__isnull=False
        ).exists()
    assert sorted(_counter(n) for n in numbers) == list(range(1, ok + 1))
    assert [_counter(n) for n in committed] == list(range(1, ok + 1))


def test_two_clerks_invoicing_the_same_folder_bill_it_once(org, admin_user, slow_issue):
    folder = _folders(org, 1)[0]
    committed, errors = _issue_in_threads([folder] * 6, admin_user)
    assert len(committed) == 1
    assert len(errors) == 5 and all(getattr(e, "code", None) == "nothing_to_invoice" for e in errors)
    with scopes_disabled():
        assert Document.objects.filter(kind=DocumentKind.INVOICE).count() == 1
        assert NumberSequence.objects.get(organization=org, kind="invoice").last_number == 1
