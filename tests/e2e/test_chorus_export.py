"""In a real browser: "select all" ticks every exportable invoice (not those issued without
the payer's SIRET), the download is the archive, and the page then says when it went."""

from __future__ import annotations

import tarfile

import pytest

from documents.models import ChorusExport
from tests.documents.factories import FolderFactory, chorus_invoice, chorus_payer, deliver, oneoff
from tests.e2e.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)


def test_select_all_and_download_the_archive(page, org, admin_user):
    from documents import services

    ready = [chorus_invoice(org, admin_user), chorus_invoice(org, admin_user, name="Université de Lille")]
    folder = FolderFactory(organization=org, customer__name="Mairie de Brest")
    oneoff(folder, quantity="1", unit_price="100.00")
    deliver(folder)
    without_siret = services.invoice_oneoff_now(folder=folder, user=admin_user)
    chorus_payer(folder.customer)

    login(page, "admin")
    page.goto(f"{page.base_url}/documents/chorus-pro/")
    page.click("#chorus-all")
    ticked = page.eval_on_selector_all("input[name=document]:checked", "boxes => boxes.map(b => +b.value)")
    assert sorted(ticked) == sorted(doc.pk for doc in ready)
    assert page.is_disabled(f"#chorus-{without_siret.pk}")
    page.check("input[name=syntax][value=ubl]")
    with page.expect_download() as download:
        page.click("[data-testid=chorus-download]")
    archive = download.value
    assert archive.suggested_filename.endswith(".tar.gz")
    with tarfile.open(archive.path(), "r:gz") as members:
        assert sorted(members.getnames()) == sorted(f"{doc.number}.xml" for doc in ready)
    assert ChorusExport.objects.get().syntax == "ubl"

    page.goto(f"{page.base_url}/documents/chorus-pro/?exported=1")
    assert page.locator("[data-testid=chorus-table] tbody tr").count() == 2
