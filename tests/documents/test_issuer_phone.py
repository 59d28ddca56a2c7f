"""The issuer's phone number is printed as its own customers dial it, not in E.164."""

from __future__ import annotations

from documents import services
from tests.documents.conftest import pdf_text
from tests.documents.factories import deliver


def test_the_pdf_prints_the_issuers_phone_in_national_form_and_the_website_without_scheme(
    org, direct_folder, admin_user, run_on_commit
):
    org.phone, org.website = "+493012345670", "https://www.nordtek.example"
    org.save()
    deliver(direct_folder)
    invoice = run_on_commit(services.invoice_oneoff_now, folder=direct_folder, user=admin_user)
    assert invoice.issuer["phone"] == "+493012345670"
    text = " ".join(pdf_text(invoice).split())
    assert "030 12345670" in text
    assert "+493012345670" not in text
    assert "www.nordtek.example" in text and "https://www.nordtek" not in text
