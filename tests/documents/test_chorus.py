"""Chorus Pro archives: flat .tar.gz files of EN 16931 invoices (one syntax per archive,
500 to an archive) for payers who receive their invoices through Chorus Pro; each file
read back with tarfile and checked by the independent validators (XSD and the CEN rules).
The page lists those payers' documents, records who exported what and keeps the tenant
wall and the roles."""

from __future__ import annotations

import io
import tarfile
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lxml import etree

from bench.samples import issued_copies
from documents import services
from documents.einvoice.chorus import MAX_INVOICES_PER_ARCHIVE, chorus_archives
from documents.models import ChorusExport, ChorusExportItem, Document, DocumentKind
from documents.services.chorus import chorus_export_create
from organizations.models import AuditEntry
from tests.conftest import login
from tests.documents.einvoice_validation import assert_valid
from tests.documents.factories import (
    CHORUS_ENGAGEMENT,
    CHORUS_SERVICE_CODE,
    CHORUS_SIRET,
    FolderFactory,
    chorus_invoice,
    chorus_payer,
    deliver,
    oneoff,
)

pytestmark = pytest.mark.django_db

SIRET, SERVICE_CODE, ENGAGEMENT = CHORUS_SIRET, CHORUS_SERVICE_CODE, CHORUS_ENGAGEMENT
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS = {"ram": RAM, "cac": CAC, "cbc": CBC}
UNKNOWN = "Some of the chosen documents do not exist (any more). Reload the page and choose again."


@pytest.fixture
def chorus_docs(org, admin_user):
    first = chorus_invoice(org, admin_user)
    second = chorus_invoice(org, admin_user, name="Université de Lille", engagement_number="")
    credit = services.credit_note_partial(
        invoice=first, user=admin_user, reason="Remise", amount=Decimal("100.00"), tax_rate=Decimal("19.00")
    )
    return [first, second, credit]


def _members(content: bytes) -> dict[str, tarfile.TarInfo | bytes]:
    with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
        return {info.name: (info, archive.extractfile(info).read()) for info in archive.getmembers()}


@pytest.mark.parametrize("syntax", ["cii", "ubl"])
def test_it_builds_one_flat_archive_of_valid_invoices_in_one_syntax(org, chorus_docs, syntax):
    from django.utils import timezone

    archives = chorus_archives(chorus_docs, organization=org, syntax=syntax, moment=timezone.now())

    assert len(archives) == 1
    members = _members(archives[0].content)
    assert sorted(members) == sorted(f"{doc.number}.xml" for doc in chorus_docs)
    for name, (info, data) in members.items():
        assert info.isfile() and "/" not in name and not name.startswith(".")
        document = next(doc for doc in chorus_docs if f"{doc.number}.xml" == name)
        assert_valid(data, syntax, "en16931", kind=document.kind)
        root = etree.fromstring(data)
        if syntax == "cii":
            assert root.tag.endswith("CrossIndustryInvoice")
            buyer = root.find(".//ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID", NS)
            reference = root.findtext(".//ram:BuyerReference", namespaces=NS)
            order = root.findtext(".//ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID", namespaces=NS)
        else:
            assert root.tag.endswith("CreditNote" if document.kind == DocumentKind.CREDIT_NOTE else "Invoice")
            buyer = root.find("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID", NS)
            reference = root.findtext("cbc:BuyerReference", namespaces=NS)
            order = root.findtext("cac:OrderReference/cbc:ID", namespaces=NS)
        assert (buyer.text, buyer.get("schemeID")) == (SIRET, "0009")
        assert reference == SERVICE_CODE
        wants_engagement = document.payer.engagement_number
        assert order == (ENGAGEMENT if wants_engagement else None)


def test_it_names_files_safely_and_never_twice(org, admin_user):
    from django.utils import timezone

    from organizations.models import NumberFormat

    for kind in ("invoice", "credit_note"):
        NumberFormat.objects.create(organization=org, kind=kind, pattern="RE/{year}/Nr. {counter:04}")
    invoice = chorus_invoice(org, admin_user)
    credit = services.credit_note_partial(
        invoice=invoice, user=admin_user, reason="Remise", amount=Decimal("10.00"), tax_rate=Decimal("19.00")
    )
    assert invoice.number == credit.number and "/" in invoice.number

    [archive] = chorus_archives([invoice, credit], organization=org, syntax="cii", moment=timezone.now())
    names = list(_members(archive.content))
    year = invoice.issue_date.year
    assert names == [f"RE-{year}-Nr--0001.xml", f"RE-{year}-Nr--0001-credit_note-{credit.pk}.xml"]


def test_it_splits_501_documents_into_two_numbered_archives(org, admin_user, django_assert_max_num_queries):
    invoice = chorus_invoice(org, admin_user)
    ids = [invoice.pk] + [copy.pk for copy in issued_copies(invoice, MAX_INVOICES_PER_ARCHIVE)]

    # The documents and their lines are read in a few queries, not one per document (SQLite
    # splits the bulk inserts into more statements than PostgreSQL does).
    with django_assert_max_num_queries(30):
        result = chorus_export_create(organization=org, user=admin_user, document_ids=ids, syntax="ubl")

    assert result.count == 501 and result.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(result.content)) as bundle:
        names = bundle.namelist()
        assert len(names) == 2
        assert names[0].endswith("-1-of-2.tar.gz") and names[1].endswith("-2-of-2.tar.gz")
        parts = [_members(bundle.read(name)) for name in names]
    assert [len(part) for part in parts] == [500, 1]
    assert len(set(parts[0]) | set(parts[1])) == 501
    for part in parts:
        first = next(iter(part.values()))
        assert_valid(first[1], "ubl", "en16931")
    assert [export.count for export in result.exports] == [500, 1]
    assert ChorusExportItem.objects.filter(organization=org).count() == 501
    assert [export.filename for export in result.exports] == names


def test_it_records_who_exported_what_and_audits_it(org, billing_user, chorus_docs):
    result = chorus_export_create(
        organization=org, user=billing_user, document_ids=[doc.pk for doc in chorus_docs], syntax="cii"
    )

    assert result.content_type == "application/gzip" and result.filename.endswith(".tar.gz")
    [export] = ChorusExport.objects.filter(organization=org)
    assert (export.user, export.syntax, export.count, export.filename) == (
        billing_user,
        "cii",
        3,
        result.filename,
    )
    assert set(export.items.values_list("document_id", flat=True)) == {doc.pk for doc in chorus_docs}
    entry = AuditEntry.objects.get(action="chorus.exported", object_type="documents.chorusexport")
    assert entry.user == billing_user
    assert sorted(entry.data["numbers"]) == sorted(doc.number for doc in chorus_docs)
    history = services_history(chorus_docs[0])
    assert _("Exported for Chorus Pro") in history


def services_history(document) -> list[str]:
    from documents.selectors import document_history

    return [row["title"] for row in document_history(document)]


def test_it_refuses_drafts_payers_without_siret_and_other_tenants(org, other_org, admin_user, chorus_docs):
    from django.utils import timezone

    plain = FolderFactory(organization=org, customer__name="Stadtwerke Kiel")
    oneoff(plain, quantity="1", unit_price="100.00")
    deliver(plain)
    no_siret = services.invoice_oneoff_now(folder=plain, user=admin_user)
    draft = services.document_draft_create(
        organization=org,
        kind=DocumentKind.INVOICE,
        user=admin_user,
        customer=plain.customer,
        payer=plain.customer,
        lines=[services.LineSpec(description="Wartung", quantity=Decimal(1), unit_price=Decimal("10.00"))],
    )
    foreign = chorus_invoice(other_org, None, name="Ville de Lyon")
    now = timezone.now()

    without_siret = _(
        "%(document)s was issued without the SIRET of %(payer)s; Chorus Pro routes invoices by the buyer's SIRET."
    ) % {"document": no_siret, "payer": "Stadtwerke Kiel"}
    for document, expected in (
        (no_siret, without_siret),
        (
            draft,
            _("%(document)s is a draft; only issued invoices and credit notes go to Chorus Pro.")
            % {"document": draft},
        ),
        (foreign, _("One of the chosen documents belongs to another organization.")),
    ):
        with pytest.raises(ValidationError) as refused:
            chorus_archives([chorus_docs[0], document], organization=org, syntax="cii", moment=now)
        assert refused.value.messages == [expected]
    with pytest.raises(ValidationError) as refused:
        chorus_archives(chorus_docs, organization=org, syntax="pdf", moment=now)
    assert refused.value.messages == [_("Choose CII or UBL as the syntax of the archive.")]
    with pytest.raises(ValidationError) as refused:
        chorus_archives([], organization=org, syntax="cii", moment=now)
    assert refused.value.messages == [_("Choose at least one invoice or credit note.")]

    with pytest.raises(ValidationError) as refused:
        chorus_export_create(
            organization=org, user=admin_user, document_ids=[chorus_docs[0].pk, foreign.pk], syntax="cii"
        )
    assert refused.value.messages == [_(UNKNOWN)]
    with pytest.raises(ValidationError) as refused:
        chorus_export_create(
            organization=org, user=admin_user, document_ids=[chorus_docs[0].pk, no_siret.pk], syntax="cii"
        )
    assert refused.value.messages == [without_siret]
    assert not ChorusExport.objects.exists() and not ChorusExportItem.objects.exists()
    assert not AuditEntry.objects.filter(action="chorus.exported").exists()


def test_it_refuses_to_issue_a_chorus_invoice_without_siret(org, admin_user):
    folder = FolderFactory(organization=org, customer__name="Mairie de Brest")
    chorus_payer(folder.customer, siret="")
    oneoff(folder, quantity="1", unit_price="100.00")
    deliver(folder)

    with pytest.raises(ValidationError) as refused:
        services.invoice_oneoff_now(folder=folder, user=admin_user)
    assert (
        _(
            "%(payer)s receives invoices through Chorus Pro, which needs the customer's SIRET (customer record)."
        )
        % {"payer": "Mairie de Brest"}
        in refused.value.messages
    )
    assert not Document.objects.filter(kind=DocumentKind.INVOICE).exclude(number="").exists()


def test_the_customer_page_warns_of_a_chorus_payer_without_siret(org):
    from customers.selectors import customer_warnings

    customer = chorus_payer(FolderFactory(organization=org).customer, siret="")
    missing = _("Invoices go to Chorus Pro, which needs the customer's SIRET; none is entered.")
    assert missing in customer_warnings(customer=customer)
    assert missing not in customer_warnings(customer=chorus_payer(customer))


# --- the page --------------------------------------------------------------------------


URL = "/documents/chorus-pro/"


def test_the_page_lists_only_chorus_payers_documents_of_the_organization(
    org, other_org, admin_user, outsider, chorus_docs
):
    plain = FolderFactory(organization=org, customer__name="Stadtwerke Kiel")
    oneoff(plain, quantity="1", unit_price="100.00")
    deliver(plain)
    by_mail = services.invoice_oneoff_now(folder=plain, user=admin_user)
    foreign = chorus_invoice(other_org, None, name="Ville de Lyon")

    page = login(admin_user).get(URL)
    assert page.status_code == 200
    shown = {row["document"].pk for row in page.context["rows"]}
    assert shown == {doc.pk for doc in chorus_docs}
    assert by_mail.pk not in shown and foreign.pk not in shown
    assert reverse("documents:chorus") == URL

    outside = login(outsider).get(URL)
    assert outside.status_code == 200
    assert {row["document"].pk for row in outside.context["rows"]} == {foreign.pk}
    assert not any(f"/documents/{doc.pk}/" in outside.content.decode() for doc in chorus_docs)


def test_the_page_filters_by_period_and_export_state(org, admin_user, chorus_docs):
    client = login(admin_user)
    day = chorus_docs[0].issue_date
    assert len(client.get(URL, {"date_from": day.isoformat(), "exported": ""}).context["rows"]) == 3
    after = (day.replace(year=day.year + 1)).isoformat()
    assert client.get(URL, {"date_from": after, "exported": ""}).context["rows"] == []

    chorus_export_create(organization=org, user=admin_user, document_ids=[chorus_docs[1].pk], syntax="cii")
    assert {row["document"].pk for row in client.get(URL).context["rows"]} == {
        chorus_docs[0].pk,
        chorus_docs[2].pk,
    }
    exported = client.get(URL, {"exported": "1"})
    [row] = exported.context["rows"]
    assert row["document"].pk == chorus_docs[1].pk and row["document"].chorus_exported_at is not None
    assert client.get(URL, {"date_from": "not-a-date", "exported": "7"}).status_code == 200


def test_billing_staff_download_the_archive(org, billing_user, chorus_docs):
    client = login(billing_user)
    response = client.post(URL + "?exported=", {"syntax": "ubl", "document": [doc.pk for doc in chorus_docs]})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert response["Content-Disposition"].startswith('attachment; filename="chorus-pro-nordtek-ubl-')
    members = _members(response.content)
    assert len(members) == 3
    assert ChorusExport.objects.get().user == billing_user
    page = client.get(URL, {"exported": "1"})
    assert len(page.context["rows"]) == 3
    filename = response["Content-Disposition"].split('"')[1]
    success = ngettext(
        "%(count)s document exported for Chorus Pro in %(filename)s: upload it on chorus-pro.gouv.fr.",
        "%(count)s documents exported for Chorus Pro in %(filename)s: upload it on chorus-pro.gouv.fr.",
        3,
    ) % {"count": 3, "filename": filename}
    assert escape(success) in page.content.decode()


def test_a_refused_export_says_why_and_changes_nothing(org, other_org, admin_user, chorus_docs):
    client = login(admin_user)
    foreign = chorus_invoice(other_org, None, name="Ville de Lyon")

    for data, expected in (
        ({"syntax": "cii"}, _("Choose at least one invoice or credit note.")),
        (
            {"syntax": "zip", "document": [chorus_docs[0].pk]},
            _("Choose CII or UBL as the syntax of the archive."),
        ),
        ({"syntax": "cii", "document": [chorus_docs[0].pk, foreign.pk]}, _(UNKNOWN)),
        ({"syntax": "cii", "document": ["x", "9" * 40]}, _("Choose at least one invoice or credit note.")),
    ):
        response = client.post(URL + "?exported=0", data, follow=True)
        assert response.status_code == 200
        assert response.redirect_chain[0][0] == URL + "?exported=0"
        assert escape(expected) in response.content.decode()
    assert not ChorusExport.objects.exists()


def test_only_who_issues_invoices_may_export(org, readonly_user, sales_user, chorus_docs):
    for user in (readonly_user, sales_user):
        client = login(user)
        page = client.get(URL)
        assert page.status_code == 200 and not page.context["can_export"]
        assert 'name="document"' not in page.content.decode()
        response = client.post(URL, {"syntax": "cii", "document": [chorus_docs[0].pk]})
        assert response.status_code == 403
    assert not ChorusExport.objects.exists()


def test_the_invoice_list_links_to_the_page(admin_user, chorus_docs):
    page = login(admin_user).get(reverse("documents:invoices"))
    assert URL in page.content.decode()
