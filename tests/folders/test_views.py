from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from folders.models import (
    Equipment,
    Folder,
    FolderStatus,
    FolderTemplate,
    OneOffLine,
    RecurringLine,
    RecurringLineChange,
)
from tests.catalog.factories import (
    ProductFactory,
    RecurringProductFactory,
    ServicePackageFactory,
    standard_rate,
)
from tests.customers.factories import CustomerFactory, ProspectFactory
from tests.financing.factories import FinancingFactory
from tests.folders.factories import FolderFactory, FolderTemplateItemFactory, add_oneoff, add_recurring

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(org):
    return FolderFactory(organization=org, name="Kopierer Zentrale", start_date=dt.date(2026, 1, 1))


@pytest.fixture
def world(org, folder):
    """One of everything in `org`, for the tenant wall and role checks."""
    line = add_oneoff(folder, quantity="2")
    recurring = add_recurring(folder)
    template = FolderTemplateItemFactory(template__organization=org).template
    return {
        "folder": folder,
        "customer": folder.customer,
        "line": line,
        "recurring": recurring,
        "template": template,
    }


def _urls(w):
    f, c, line, rec, t = w["folder"], w["customer"], w["line"], w["recurring"], w["template"]
    return {
        # (url, is_write)
        "detail": (reverse("folders:detail", args=[f.pk]), False),
        "create": (reverse("folders:create", args=[c.pk]), True),
        "from_template": (reverse("folders:create_from_template", args=[c.pk]), True),
        "edit": (reverse("folders:edit", args=[f.pk]), True),
        "activate": (reverse("folders:activate", args=[f.pk]), True),
        "suspend": (reverse("folders:suspend", args=[f.pk]), True),
        "terminate": (reverse("folders:terminate", args=[f.pk]), True),
        "cancel": (reverse("folders:cancel", args=[f.pk]), True),
        "withdraw": (reverse("folders:cancellation_withdraw", args=[f.pk]), True),
        "oneoff_add": (reverse("folders:oneoff_add", args=[f.pk]), True),
        "oneoff_edit": (reverse("folders:oneoff_edit", args=[f.pk, line.pk]), True),
        "oneoff_delete": (reverse("folders:oneoff_delete", args=[f.pk, line.pk]), True),
        "equipment": (reverse("folders:equipment_edit", args=[f.pk, line.pk]), True),
        "recurring_add": (reverse("folders:recurring_add", args=[f.pk]), True),
        "recurring_edit": (reverse("folders:recurring_edit", args=[f.pk, rec.pk]), True),
        "recurring_change": (reverse("folders:recurring_change", args=[f.pk, rec.pk]), True),
        "recurring_delete": (reverse("folders:recurring_delete", args=[f.pk, rec.pk]), True),
        "template_edit": (reverse("folders:template_edit", args=[t.pk]), True),
        "template_delete": (reverse("folders:template_delete", args=[t.pk]), True),
    }


def test_outsiders_get_404_for_every_object_url(world, outsider, client_for):
    client = client_for(outsider)
    for name, (url, write) in _urls(world).items():
        assert client.get(url).status_code in (404, 405), name
        # Read pages answer POST with 405 before looking anything up; writes 404.
        assert client.post(url, {"name": "x"}).status_code == (404 if write else 405), name
    assert Folder.objects.get(pk=world["folder"].pk).name == "Kopierer Zentrale"
    assert OneOffLine.objects.filter(pk=world["line"].pk).exists()
    assert FolderTemplate.objects.filter(pk=world["template"].pk).exists()


def test_outsiders_see_none_of_the_organizations_folders_in_lists(world, outsider, client_for):
    client = client_for(outsider)
    assert "Kopierer Zentrale" not in client.get(reverse("folders:list")).content.decode()
    Equipment.objects.filter(line=world["line"]).update(serial_number="SN-SECRET")
    assert (
        "SN-SECRET" not in client.get(reverse("folders:equipment_search"), {"q": "SECRET"}).content.decode()
    )
    assert world["template"].name not in client.get(reverse("folders:templates")).content.decode()


def test_readonly_gets_403_on_every_write(world, readonly_user, client_for):
    client = client_for(readonly_user)
    for name, (url, write) in _urls(world).items():
        if write:
            assert client.post(url, {"name": "x"}).status_code == 403, name
    assert client.get(reverse("folders:detail", args=[world["folder"].pk])).status_code == 200
    assert Folder.objects.get(pk=world["folder"].pk).status == FolderStatus.ACTIVE


def test_support_may_edit_equipment_but_not_folders(world, support_user, client_for):
    client = client_for(support_user)
    line = world["line"]
    assert (
        client.get(reverse("folders:equipment_edit", args=[world["folder"].pk, line.pk])).status_code == 200
    )
    assert client.post(reverse("folders:edit", args=[world["folder"].pk]), {}).status_code == 403
    assert client.post(reverse("folders:oneoff_add", args=[world["folder"].pk]), {}).status_code == 403


def test_billing_may_not_change_standard_installations(world, billing_user, client_for):
    client = client_for(billing_user)
    assert client.get(reverse("folders:template_create")).status_code == 403
    assert client.get(reverse("folders:templates")).status_code == 200


def test_the_detail_page_shows_lines_pieces_payer_and_history(org, admin_client, folder):
    financing = FinancingFactory(folder=folder)
    line = add_oneoff(folder, quantity="2")
    Equipment.objects.filter(line=line, piece=1).update(serial_number="W8K-0001")
    add_recurring(folder, description="Managed Print Service")
    response = admin_client.get(reverse("folders:detail", args=[folder.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "W8K-0001" in content
    assert "Drittzahler" in content
    assert financing.financier.name in content
    assert "Managed Print Service" in content
    assert "Verlauf" in content


def test_it_creates_a_folder_from_the_customer_page(org, admin_client):
    customer = CustomerFactory(
        organization=org, street="Jungfernstieg 7", postal_code="20354", city="Hamburg"
    )
    url = reverse("folders:create", args=[customer.pk])
    form = admin_client.get(url).context["form"]
    assert form.initial["delivery_city"] == "Hamburg"
    response = admin_client.post(
        url,
        {
            "name": "Telefonanlage",
            "start_date": "2026-12-01",
            "minimum_term_months": "24",
            "notice_period_months": "3",
            "renewal_term_months": "",
            "delivery_name": customer.name,
            "delivery_street": "Jungfernstieg 7",
            "delivery_postal_code": "20354",
            "delivery_city": "Hamburg",
            "delivery_country": "DE",
        },
    )
    folder = Folder.objects.get()
    assert response.status_code == 302
    assert folder.customer == customer
    assert folder.number == "O000001"


def test_a_bad_folder_form_shows_german_errors_and_saves_nothing(org, admin_client):
    customer = CustomerFactory(organization=org)
    response = admin_client.post(
        reverse("folders:create", args=[customer.pk]),
        {
            "name": "",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
            "minimum_term_months": "-3",
            "notice_period_months": "abc",
            "billing_day": "31",
            "billing_hold": "on",
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Bitte korrigieren" in content
    assert "vor dem Beginn" in content
    assert "zwischen 1 und 28" in content
    assert "Grund" in content
    assert not Folder.objects.exists()


def test_activating_a_prospects_folder_converts_it(org, admin_client):
    prospect = ProspectFactory(organization=org)
    folder = FolderFactory(organization=org, customer=prospect, status=FolderStatus.DRAFT)
    response = admin_client.post(reverse("folders:activate", args=[folder.pk]), follow=True)
    prospect.refresh_from_db()
    assert prospect.kind == "customer"
    assert "ist jetzt Kunde" in response.content.decode()


def test_it_adds_a_one_off_line_prefilled_from_the_catalog(org, admin_client, folder):
    package = ServicePackageFactory(organization=org, name="Wartung Premium")
    product = ProductFactory(
        organization=org,
        name="Kyocera TASKalfa 3554ci",
        unit_price=Decimal("6490.00"),
        service_package=package,
    )
    url = reverse("folders:oneoff_add", args=[folder.pk])
    response = admin_client.get(url, {"product": product.pk, "quantity": "3"}, HTTP_HX_REQUEST="true")
    form = response.context["form"]
    assert form.initial["unit_price"] == Decimal("6490.00")
    assert form.initial["quantity"] == "3"
    assert "Wartung Premium" in response.content.decode()
    assert "<html" not in response.content.decode()  # the htmx partial only
    response = admin_client.post(
        url,
        {
            "product": product.pk,
            "description": "Kyocera TASKalfa 3554ci",
            "quantity": "3",
            "unit": "piece",
            "unit_price": "6.490,00",
            "discount_percent": "0",
            "tax_rate": product.tax_rate.pk,
            "is_equipment": "on",
            "add_service_package": "on",
        },
    )
    assert response.status_code == 302
    line = OneOffLine.objects.get()
    assert line.unit_price == Decimal("6490.00")
    assert line.equipment.count() == 3
    assert RecurringLine.objects.get(folder=folder).service_package == package


def test_a_negative_quantity_or_price_is_refused_at_the_field(org, admin_client, folder):
    response = admin_client.post(
        reverse("folders:oneoff_add", args=[folder.pk]),
        {
            "description": "Installation",
            "quantity": "-1",
            "unit": "hour",
            "unit_price": "-95",
            "discount_percent": "0",
            "tax_rate": standard_rate(org).pk,
        },
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Die Menge muss größer als null sein." in content
    assert "Der Preis darf nicht negativ sein." in content
    assert not OneOffLine.objects.exists()


def test_malformed_input_never_500s(org, admin_client, world):
    f, line, rec = world["folder"], world["line"], world["recurring"]
    garbage = {
        "quantity": "x" * 50,
        "unit_price": "1e999",
        "tax_rate": "abc",
        "product": "999999",
        "start_date": "31.31.2026",
    }
    urls = [
        reverse("folders:oneoff_add", args=[f.pk]),
        reverse("folders:oneoff_edit", args=[f.pk, line.pk]),
        reverse("folders:recurring_add", args=[f.pk]),
        reverse("folders:recurring_edit", args=[f.pk, rec.pk]),
        reverse("folders:recurring_change", args=[f.pk, rec.pk]),
        reverse("folders:equipment_edit", args=[f.pk, line.pk]),
        reverse("folders:edit", args=[f.pk]),
        reverse("folders:cancel", args=[f.pk]),
        reverse("folders:create_from_template", args=[world["customer"].pk]),
        reverse("folders:template_create"),
    ]
    for url in urls:
        assert admin_client.post(url, garbage).status_code == 200, url
        assert admin_client.post(url, {}).status_code == 200, url
    for params in ({"product": "abc"}, {"product": "99999"}, {"service_package": "x"}):
        assert admin_client.get(reverse("folders:oneoff_add", args=[f.pk]), params).status_code == 200
        assert admin_client.get(reverse("folders:recurring_add", args=[f.pk]), params).status_code == 200
    for params in (
        {"page": "abc"},
        {"page": "999"},
        {"per_page": "0"},
        {"per_page": "-5"},
        {"sort": "nonsense"},
        {"status": "nope"},
        {"financier": "abc"},
        {"customer": "x"},
        {"ending": "1000"},
        {"hold": "7"},
    ):
        assert admin_client.get(reverse("folders:list"), params).status_code == 200, params
    assert admin_client.get(reverse("folders:equipment_search"), {"q": "%_'\"<script>"}).status_code == 200
    assert (
        admin_client.post(reverse("folders:terminate", args=[f.pk]), {"end_date": "31.31.2026"}).status_code
        == 200
    )
    assert (
        admin_client.post(reverse("folders:terminate", args=[f.pk]), {"end_date": "2020-01-01"}).status_code
        == 200
    )
    assert Folder.objects.get(pk=f.pk).status == FolderStatus.ACTIVE
    assert admin_client.get("/folders/abc/").status_code == 404
    assert admin_client.get(reverse("folders:detail", args=[999999])).status_code == 404


def test_a_tampered_equipment_form_cannot_touch_other_lines(org, admin_client, folder):
    line = add_oneoff(folder)
    other = add_oneoff(FolderFactory(organization=org))
    foreign_piece = other.equipment.get()
    data = {
        "eq-TOTAL_FORMS": "1",
        "eq-INITIAL_FORMS": "1",
        "eq-0-id": str(foreign_piece.pk),
        "eq-0-serial_number": "HACKED",
        "paste-serials": "",
    }
    response = admin_client.post(reverse("folders:equipment_edit", args=[folder.pk, line.pk]), data)
    assert response.status_code == 200
    foreign_piece.refresh_from_db()
    assert foreign_piece.serial_number == ""


def test_duplicate_serial_asks_to_confirm_and_saves_when_confirmed(org, admin_client, folder):
    product = ProductFactory(organization=org)
    existing = add_oneoff(FolderFactory(organization=org), product=product)
    Equipment.objects.filter(line=existing).update(serial_number="W8K-1")
    line = add_oneoff(folder, product=product)
    piece = line.equipment.get()
    url = reverse("folders:equipment_edit", args=[folder.pk, line.pk])
    data = {
        "eq-TOTAL_FORMS": "1",
        "eq-INITIAL_FORMS": "1",
        "eq-0-id": str(piece.pk),
        "eq-0-serial_number": "W8K-1",
        "eq-0-model_number": "",
        "eq-0-warranty_end": "",
        "eq-0-delivered_on": "",
        "paste-serials": "",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "trotzdem speichern" in response.content.decode().lower()
    piece.refresh_from_db()
    assert piece.serial_number == ""
    data["paste-confirm_duplicates"] = "on"
    assert admin_client.post(url, data).status_code == 302
    piece.refresh_from_db()
    assert piece.serial_number == "W8K-1"


def test_pasting_more_serials_than_pieces_is_refused(org, admin_client, folder):
    line = add_oneoff(folder, quantity="2")
    pieces = list(line.equipment.order_by("piece"))
    data = {"eq-TOTAL_FORMS": "2", "eq-INITIAL_FORMS": "2", "paste-serials": "A\nB\nC"}
    for i, piece in enumerate(pieces):
        data[f"eq-{i}-id"] = str(piece.pk)
    response = admin_client.post(reverse("folders:equipment_edit", args=[folder.pk, line.pk]), data)
    assert response.status_code == 200
    assert "3 Seriennummern" in response.content.decode()
    assert not Equipment.objects.exclude(serial_number="").exists()


def test_serial_search_shows_customer_folder_warranty_and_delivery(org, admin_client, folder):
    line = add_oneoff(folder)
    Equipment.objects.filter(line=line).update(
        serial_number="W8K3X4711", warranty_end=dt.date(2020, 1, 1), delivered_on=dt.date(2018, 1, 2)
    )
    content = admin_client.get(reverse("folders:equipment_search"), {"q": "x47"}).content.decode()
    assert "W8K3X4711" in content
    assert folder.customer.name in content
    assert folder.number in content
    assert "abgelaufen" in content
    assert "02.01.2018" in content


def test_recurring_change_view_records_a_version(org, admin_client, folder):
    line = add_recurring(folder, quantity="4")
    response = admin_client.post(
        reverse("folders:recurring_change", args=[folder.pk, line.pk]),
        {"effective_from": "2026-03-15", "quantity": "6", "unit_price": "9,90"},
    )
    assert response.status_code == 302
    assert RecurringLineChange.objects.get().quantity == Decimal("6")


def test_cancel_view_computes_the_end_date(org, admin_client):
    folder = FolderFactory(
        organization=org, start_date=dt.date(2026, 1, 1), minimum_term_months=24, notice_period_months=3
    )
    response = admin_client.post(
        reverse("folders:cancel", args=[folder.pk]), {"notice_received_on": "2026-05-10"}, follow=True
    )
    folder.refresh_from_db()
    assert folder.end_date == dt.date(2027, 12, 31)
    assert "31.12.2027" in response.content.decode()


# --- list ----------------------------------------------------------------------------


def _many(org, count, financier=None):
    for i in range(count):
        folder = FolderFactory(organization=org, name=f"Ordner {i}", owner=None)
        if financier is not None and i % 2 == 0:
            FinancingFactory(folder=folder, financier=financier)


def test_the_folder_list_runs_a_constant_number_of_queries(org, admin_client, admin_user):
    from tests.financing.factories import FinancierFactory

    financier = FinancierFactory(organization=org)
    _many(org, 6, financier)
    Folder.objects.update(owner=admin_user, billing_hold=True, billing_hold_reason="x")
    admin_client.get(
        reverse("folders:list")
    )  # the first request stores the active organization in the session
    with CaptureQueriesContext(connection) as small:
        assert admin_client.get(reverse("folders:list"), {"per_page": 5}).status_code == 200
    _many(org, 40, financier)
    Folder.objects.update(owner=admin_user)
    with CaptureQueriesContext(connection) as large:
        assert admin_client.get(reverse("folders:list"), {"per_page": 40}).status_code == 200
    assert len(large) == len(small)


def test_list_filters(org, admin_client):
    from tests.financing.factories import FinancierFactory

    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    financed = FolderFactory(organization=org, name="Finanziert")
    FinancingFactory(folder=financed, financier=financier)
    held = FolderFactory(
        organization=org, name="Gesperrt", billing_hold=True, billing_hold_reason="Reklamation"
    )
    ending = FolderFactory(
        organization=org, name="Endet bald", contract_end=dt.date.today() + dt.timedelta(days=20)
    )
    draft = FolderFactory(organization=org, name="Entwurf", status=FolderStatus.DRAFT)

    def names(**params):
        response = admin_client.get(reverse("folders:list"), params)
        return {row.record.name for row in response.context["table"].page.object_list}

    assert names(third_party="1") == {"Finanziert"}
    assert names(financier=financier.pk) == {"Finanziert"}
    assert names(hold="1") == {"Gesperrt"}
    assert names(ending="30") == {"Endet bald"}
    assert names(status="draft") == {"Entwurf"}
    assert names(q=held.number) == {"Gesperrt"}
    assert names(q=ending.customer.name) == {"Endet bald"}
    assert names(customer=draft.customer_id) == {"Entwurf"}
    assert "Drittzahler" in admin_client.get(reverse("folders:list")).content.decode()


def test_the_financier_filter_offers_only_own_financiers(org, other_org, admin_client):
    from tests.financing.factories import FinancierFactory

    FinancierFactory(organization=other_org, name="Fremdleasing AG")
    response = admin_client.get(reverse("folders:list"))
    assert "Fremdleasing" not in response.content.decode()


# --- the customer page partial ---------------------------------------------------------


def test_the_customer_page_lists_its_folders_and_a_financiers_financed_folders(org, admin_client):
    from tests.financing.factories import FinancierFactory

    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    folder = FolderFactory(organization=org, name="Leasing Kopierer")
    FinancingFactory(folder=folder, financier=financier)
    content = admin_client.get(reverse("customers:detail", args=[folder.customer_id])).content.decode()
    assert "Leasing Kopierer" in content
    assert "Drittzahler" in content
    content = admin_client.get(reverse("customers:detail", args=[financier.pk])).content.decode()
    assert "Finanzierte Ordner" in content
    assert "Leasing Kopierer" in content


def test_recurring_add_form_prefills_a_recurring_product(org, admin_client, folder):
    product = RecurringProductFactory(
        organization=org, unit_price=Decimal("9.90"), setup_fee=Decimal("49.00")
    )
    response = admin_client.get(reverse("folders:recurring_add", args=[folder.pk]), {"product": product.pk})
    form = response.context["form"]
    assert form.initial["setup_fee"] == Decimal("49.00")
    assert form.initial["cycle"] == 1


def _form_data(form) -> dict:
    """What the browser would post for `form` as rendered (initial values, unchanged)."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("start_date", "9999-12-01"),
        ("start_date", "0001-01-01"),
        ("minimum_term_months", "99999"),
        ("minimum_term_months", "241"),
        ("notice_period_months", "32767"),
    ],
)
def test_absurd_dates_and_terms_are_refused_at_the_field(org, admin_client, world, field, value):
    f = world["folder"]
    url = reverse("folders:edit", args=[f.pk])
    data = _form_data(admin_client.get(url).context["form"])
    assert admin_client.post(url, data).status_code == 302  # the form as rendered saves
    data.update({"minimum_term_months": data.get("minimum_term_months") or "1"} | {field: value})
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    before = Folder.objects.get(pk=f.pk)
    assert (before.start_date, before.minimum_term_months) == (f.start_date, f.minimum_term_months)


def test_a_financiers_page_lists_the_folders_it_finances_with_status_and_amounts(org, admin_client):
    from tests.documents.factories import oneoff
    from tests.financing.factories import FinancierFactory

    financier = FinancierFactory(organization=org, name="GRENKE Leasing AG")
    folder = FolderFactory(organization=org, name="Leasing Kopierer", status="active")
    FinancingFactory(
        folder=folder, financier=financier, contract_reference="GR-2026-4711", monthly_rate="171.94"
    )
    oneoff(folder, quantity="2", unit_price="4290.00", equipment=False)
    installed = oneoff(folder, quantity="1", unit_price="237.50", equipment=False)
    installed.invoice_document_id = 4711
    installed.save()
    content = admin_client.get(reverse("customers:detail", args=[financier.pk])).content.decode()
    section = " ".join(content.split("Finanzierte Ordner")[1].split())
    assert "Leasing Kopierer" in section and "GR-2026-4711" in section
    assert "Aktiv" in section
    assert "Finanziert (netto)" in section and "Berechnet (netto)" in section
    assert "8.817,50 €" in section  # 2 x 4.290,00 + 237,50
    assert "237,50 €" in section  # invoiced so far
    assert "171,94 €" in section


def _piece_post(piece, **values) -> dict:
    data = {
        "eq-TOTAL_FORMS": "1",
        "eq-INITIAL_FORMS": "1",
        "eq-0-id": str(piece.pk),
        "eq-0-serial_number": "SN-77",
        "eq-0-model_number": "",
        "eq-0-warranty_end": "",
        "eq-0-delivered_on": "2026-11-20",
        "paste-serials": "",
    }
    data.update(values)
    return data


def test_only_those_who_invoice_may_type_a_delivery_date(org, folder, support_user, billing_user, client_for):
    line = add_oneoff(folder)
    piece = line.equipment.get()
    url = reverse("folders:equipment_edit", args=[folder.pk, line.pk])
    support = client_for(support_user)
    page = support.get(url)
    assert page.context["formset"].forms[0].fields["delivered_on"].disabled
    assert support.post(url, _piece_post(piece)).status_code == 302
    piece.refresh_from_db()
    assert (piece.serial_number, piece.delivered_on) == ("SN-77", None)  # the serial is support's to type
    assert client_for(billing_user).post(url, _piece_post(piece)).status_code == 302
    piece.refresh_from_db()
    assert piece.delivered_on == dt.date(2026, 11, 20)
