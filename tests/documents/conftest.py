"""Folders ready for documents: a financed one (the seed's leasing workflow) and a
direct one, in `org`; plus helpers that run on-commit callbacks (the PDF task)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from documents import services
from organizations.models import NumberSequence
from tests.documents.factories import FolderFactory, contact, deliver, finance, financier, oneoff, recurring


@pytest.fixture
def grenke(org):
    return financier(org)


@pytest.fixture
def financed_folder(org, grenke):
    """Two copiers with serials and an installation, financed by GRENKE, plus a service."""
    folder = FolderFactory(organization=org, name="Kopierer Zentrale")
    contact(folder.customer)
    oneoff(folder, quantity="2", serials=("A7PU021012345", "A7PU021012346"))
    oneoff(
        folder, description="Installation und Einweisung", quantity="2.5", unit_price="95.00", equipment=False
    )
    recurring(folder)
    finance(folder, grenke)
    return folder


@pytest.fixture
def direct_folder(org):
    folder = FolderFactory(organization=org, name="Telefonanlage")
    contact(
        folder.customer, first_name="Jonas", last_name="Keller", salutation="mr", email="keller@example.de"
    )
    oneoff(
        folder,
        description="Yealink T54W\nIP-Telefon",
        quantity="3",
        unit_price="189.90",
        serials=("Y1", "Y2", "Y3"),
    )
    oneoff(folder, description="Handbuch", quantity="2", unit_price="24.80", rate="7.00", equipment=False)
    return folder


@pytest.fixture
def invoice(direct_folder, admin_user, run_on_commit):
    """The direct folder's one-off lines, delivered and invoiced."""
    deliver(direct_folder)
    return run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """run_on_commit(fn, ...) calls a service and runs its on-commit callbacks (PDF)."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(*args, **kwargs)
        if hasattr(result, "refresh_from_db"):
            result.refresh_from_db()
        return result

    return call


@pytest.fixture
def issue_quote(run_on_commit):
    """issue_quote(folder, user, **options) drafts the folder's quote and issues it, PDF included."""

    def issue(folder, user, **options):
        quote = services.quote_create(folder=folder, user=user, **options)
        return run_on_commit(services.quote_issue, quote=quote, user=user)

    return issue


@pytest.fixture
def issue_correction(run_on_commit):
    """issue_correction(invoice, user, reason, line_ids=... or amount=...) credits part of an
    invoice, PDF included."""

    def issue(invoice, user, reason, **what):
        return run_on_commit(services.credit_note_partial, invoice=invoice, user=user, reason=reason, **what)

    return issue


def sequence_value(org, kind: str) -> int:
    return sum(
        NumberSequence.objects.filter(organization=org, kind=kind).values_list("last_number", flat=True)
    )


def pdf_text(document) -> str:
    document.pdf.open("rb")
    try:
        data = document.pdf.read()
    finally:
        document.pdf.close()
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)
