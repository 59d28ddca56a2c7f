from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import services
from customers.models import (
    Action,
    Contact,
    ContactFunction,
    Customer,
    CustomerKind,
    Note,
    PaymentMethod,
    TaxExemption,
    TaxTreatment,
)
from organizations.audit import history_for
from organizations.models import AuditEntry, NumberFormat

from .factories import (
    ActionFactory,
    ContactFactory,
    ContactFunctionFactory,
    CustomerFactory,
    NoteFactory,
    ProspectFactory,
)


def _create(org, user=None, kind=CustomerKind.CUSTOMER, **data):
    data.setdefault("name", "Brandt Bürotechnik GmbH")
    return services.customer_create(organization=org, user=user, kind=kind, data=data)


def test_it_numbers_customers_sequentially_per_organization(org, other_org, admin_user):
    first = _create(org, admin_user, name="Alpha GmbH")
    second = _create(org, admin_user, name="Beta GmbH")
    elsewhere = _create(other_org, None, name="Gamma GmbH")
    third = _create(org, admin_user, name="Delta GmbH")
    assert [first.number, second.number, third.number] == ["K00001", "K00002", "K00003"]
    assert elsewhere.number == "K00001"


def test_it_uses_the_organizations_number_format(org, admin_user):
    NumberFormat.objects.create(organization=org, kind="customer", pattern="KD-{counter:04}")
    assert _create(org, admin_user).number == "KD-0001"


def test_it_gives_prospects_a_number_only_when_they_are_converted(org, admin_user):
    prospect = _create(org, admin_user, kind=CustomerKind.PROSPECT, name="Interessent AG")
    customer = _create(org, admin_user)
    other_prospect = _create(org, admin_user, kind=CustomerKind.PROSPECT, name="Noch ein Interessent")
    assert prospect.is_prospect
    assert (prospect.number, other_prospect.number) == ("", "")
    assert customer.number == "K00001"
    services.prospect_convert(customer=prospect, user=admin_user)
    prospect.refresh_from_db()
    assert prospect.number == "K00002"
    entry = AuditEntry.objects.filter(action="customer.converted").get()
    assert entry.data["changes"]["number"] == ["", "K00002"]


def test_a_failed_create_gives_the_number_back(org, admin_user):
    with pytest.raises(ValidationError):
        _create(org, admin_user, payment_method=PaymentMethod.DIRECT_DEBIT)  # no IBAN, no mandate
    assert Customer.objects.count() == 0
    assert _create(org, admin_user).number == "K00001"


def test_it_saves_a_customer_with_only_a_name(org, admin_user):
    customer = _create(org, admin_user, name="Nur Name KG")
    customer.refresh_from_db()
    assert customer.name == "Nur Name KG"
    assert customer.country == "DE"
    assert customer.street == ""


def test_it_audits_creation_and_changes_with_old_and_new_values(org, admin_user):
    customer = _create(org, admin_user, city="Bremen")
    services.customer_update(
        customer=customer, user=admin_user, data={"city": "Hamburg", "postal_code": "20095"}
    )
    entries = list(history_for(customer))
    assert [e.action for e in entries] == ["customer.changed", "customer.created"]
    assert entries[0].data["changes"]["city"] == ["Bremen", "Hamburg"]
    assert entries[0].data["changes"]["postal_code"] == ["", "20095"]
    assert entries[0].user == admin_user


def test_update_reads_old_values_from_the_database_not_from_the_callers_instance(org, admin_user):
    customer = _create(org, admin_user, city="Bremen")
    customer.city = "Kiel"  # what a ModelForm does to its instance before the service runs
    services.customer_update(customer=customer, user=admin_user, data={"city": "Kiel"})
    assert history_for(customer).first().data["changes"]["city"] == ["Bremen", "Kiel"]


def test_update_refuses_number_and_kind(org, admin_user):
    customer = _create(org, admin_user)
    with pytest.raises(ValueError):
        services.customer_update(customer=customer, user=admin_user, data={"number": "X1"})
    with pytest.raises(ValueError):
        services.customer_update(customer=customer, user=admin_user, data={"kind": CustomerKind.PROSPECT})


def test_convert_keeps_the_record_and_everything_attached(org, admin_user):
    prospect = ProspectFactory(organization=org, name="Kanzlei Weber")
    contact = ContactFactory(customer=prospect)
    note = NoteFactory(customer=prospect)
    action = ActionFactory(customer=prospect)

    converted = services.prospect_convert(customer=prospect, user=admin_user)

    assert converted.pk == prospect.pk
    assert Customer.objects.count() == 1
    converted.refresh_from_db()
    assert converted.kind == CustomerKind.CUSTOMER
    assert converted.number == "K00001"
    assert converted.converted_at is not None
    assert prospect.kind == CustomerKind.CUSTOMER  # the caller's instance is updated too
    assert list(converted.contacts.all()) == [contact]
    assert list(converted.notes.all()) == [note]
    assert list(converted.actions.all()) == [action]
    entry = history_for(converted).first()
    assert entry.action == "customer.converted"
    assert entry.data["changes"]["kind"] == ["prospect", "customer"]


def test_convert_is_a_no_op_for_a_customer(org, admin_user):
    customer = CustomerFactory(organization=org)
    services.prospect_convert(customer=customer, user=admin_user)
    customer.refresh_from_db()
    assert customer.converted_at is None
    assert not history_for(customer).exists()


def test_convert_twice_converts_once(org, admin_user):
    prospect = ProspectFactory(organization=org)
    services.prospect_convert(customer=prospect, user=admin_user)
    first = Customer.objects.get(pk=prospect.pk).converted_at
    services.prospect_convert(customer=Customer.objects.get(pk=prospect.pk), user=admin_user)
    assert Customer.objects.get(pk=prospect.pk).converted_at == first
    assert history_for(prospect).filter(action="customer.converted").count() == 1


class TestCustomerRules:
    def test_direct_debit_needs_iban_mandate_reference_and_signature_date(self, org):
        customer = CustomerFactory.build(organization=org, payment_method=PaymentMethod.DIRECT_DEBIT)
        with pytest.raises(ValidationError) as exc:
            customer.full_clean()
        assert {"iban", "mandate_reference", "mandate_signed_on"} <= set(exc.value.error_dict)

    def test_a_complete_direct_debit_is_accepted(self, org):
        customer = CustomerFactory.build(
            organization=org,
            payment_method=PaymentMethod.DIRECT_DEBIT,
            iban="DE89370400440532013000",
            mandate_reference="M-0001",
            mandate_signed_on=dt.date(2026, 1, 15),
        )
        customer.full_clean()

    def test_a_mandate_cannot_be_signed_in_the_future(self, org):
        customer = CustomerFactory.build(
            organization=org, mandate_signed_on=timezone.localdate() + dt.timedelta(days=1)
        )
        with pytest.raises(ValidationError) as exc:
            customer.full_clean()
        assert "mandate_signed_on" in exc.value.error_dict

    def test_gocardless_needs_the_mandate_id(self, org):
        customer = CustomerFactory.build(organization=org, payment_method=PaymentMethod.GOCARDLESS)
        with pytest.raises(ValidationError) as exc:
            customer.full_clean()
        assert "gocardless_mandate_id" in exc.value.error_dict

    def test_reverse_charge_needs_a_vat_id_and_a_customer_in_another_eu_country(self, org):
        customer = CustomerFactory.build(
            organization=org, tax_treatment=TaxTreatment.EU_REVERSE_CHARGE, country="DE"
        )
        with pytest.raises(ValidationError) as exc:
            customer.full_clean()
        assert {"vat_id", "tax_treatment"} <= set(exc.value.error_dict)
        customer = CustomerFactory.build(
            organization=org,
            tax_treatment=TaxTreatment.EU_REVERSE_CHARGE,
            country="AT",
            postal_code="1010",
            vat_id="ATU13585627",
        )
        customer.full_clean()

    def test_outside_the_eu_does_not_fit_an_eu_country(self, org):
        customer = CustomerFactory.build(organization=org, tax_treatment=TaxTreatment.NON_EU, country="FR")
        with pytest.raises(ValidationError):
            customer.full_clean()
        CustomerFactory.build(organization=org, tax_treatment=TaxTreatment.NON_EU, country="CH").full_clean()

    def test_a_vat_exempt_customer_needs_its_provision(self, org):
        customer = CustomerFactory.build(organization=org, tax_treatment=TaxTreatment.EXEMPT)
        with pytest.raises(ValidationError) as exc:
            customer.full_clean()
        assert set(exc.value.error_dict) == {"tax_exemption"}
        customer.tax_exemption = TaxExemption.EDUCATION
        customer.full_clean()

    def test_only_a_vat_exempt_customer_keeps_a_provision(self, org):
        customer = CustomerFactory.build(organization=org, tax_exemption=TaxExemption.MEDICAL)
        customer.full_clean()
        assert (customer.tax_treatment, customer.tax_exemption) == (TaxTreatment.DOMESTIC, "")

    def test_a_prospect_cannot_be_a_financier(self, org):
        prospect = ProspectFactory.build(organization=org, is_financier=True)
        with pytest.raises(ValidationError) as exc:
            prospect.full_clean()
        assert "is_financier" in exc.value.error_dict


def test_contacts_are_created_changed_and_deactivated_with_audit(org, admin_user):
    customer = CustomerFactory(organization=org)
    function = ContactFunctionFactory(organization=org, name="Technik")
    contact = services.contact_create(
        customer=customer,
        user=admin_user,
        data={"first_name": "Jonas", "last_name": "Becker", "function": function, "email": "jb@example.de"},
    )
    assert contact.organization == org
    services.contact_update(contact=contact, user=admin_user, data={"is_invoice_recipient": True})
    services.contact_set_active(contact=contact, user=admin_user, active=False)
    contact.refresh_from_db()
    assert contact.is_invoice_recipient and not contact.is_active
    actions = [e.action for e in history_for(customer)]
    assert actions == ["contact.changed", "contact.changed", "contact.created"]
    assert history_for(customer).first().data["changes"] == {"is_active": [True, False]}


def test_invoice_recipients_and_portal_users_need_an_email(org, admin_user):
    customer = CustomerFactory(organization=org)
    with pytest.raises(ValidationError) as exc:
        services.contact_create(
            customer=customer, user=admin_user, data={"last_name": "Ohne Mail", "has_portal_access": True}
        )
    assert "email" in exc.value.error_dict
    assert not Contact.objects.exists()


def test_a_contact_cannot_get_another_organizations_function(org, other_org, admin_user):
    customer = CustomerFactory(organization=org)
    foreign = ContactFunctionFactory(organization=other_org, name="Fremd")
    with pytest.raises(ValidationError):
        services.contact_create(
            customer=customer, user=admin_user, data={"last_name": "X", "function": foreign}
        )


def test_default_contact_functions_are_created_once(org):
    services.contact_functions_ensure_defaults(organization=org)
    services.contact_functions_ensure_defaults(organization=org)
    names = sorted(ContactFunction.objects.filter(organization=org).values_list("name", flat=True))
    assert names == ["Buchhaltung", "Einkauf", "Geschäftsführung", "Technik"]


def test_deleting_a_function_keeps_its_contacts(org, admin_user):
    function = ContactFunctionFactory(organization=org, name="Einkauf")
    contact = ContactFactory(customer=CustomerFactory(organization=org), function=function)
    services.contact_function_delete(function=function, user=admin_user)
    contact.refresh_from_db()
    assert contact.function is None


def test_notes_are_created_and_deleted_with_audit(org, admin_user):
    customer = CustomerFactory(organization=org)
    note = services.note_create(customer=customer, user=admin_user, text="  Nur vormittags anrufen.  ")
    assert note.text == "Nur vormittags anrufen." and note.author == admin_user
    services.note_delete(note=note, user=admin_user)
    assert not Note.objects.exists()
    assert [e.action for e in history_for(customer)] == ["note.deleted", "note.created"]


def test_actions_are_assigned_to_members_only(org, other_org, admin_user, outsider):
    customer = CustomerFactory(organization=org)
    due = timezone.localdate() + dt.timedelta(days=2)
    action = services.action_create(
        customer=customer, user=admin_user, due_on=due, description="Anrufen", assignee=admin_user
    )
    assert action.assignee == admin_user
    with pytest.raises(ValidationError) as exc:
        services.action_create(
            customer=customer, user=admin_user, due_on=due, description="X", assignee=outsider
        )
    assert "assignee" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.action_update(action=action, user=admin_user, data={"assignee": outsider})


def test_actions_with_a_source_are_created_once(org, admin_user):
    customer = CustomerFactory(organization=org)
    due = timezone.localdate()
    first = services.action_create(
        customer=customer, user=None, due_on=due, description="Vertragsende", source="contract_end:7"
    )
    second = services.action_create(
        customer=customer, user=None, due_on=due, description="Vertragsende", source="contract_end:7"
    )
    assert first.pk == second.pk
    assert Action.objects.count() == 1


def test_actions_are_completed_and_reopened_idempotently(org, admin_user):
    action = ActionFactory(customer=CustomerFactory(organization=org))
    services.action_complete(action=action, user=admin_user)
    services.action_complete(action=action, user=admin_user)
    action.refresh_from_db()
    assert action.is_done
    services.action_reopen(action=action, user=admin_user)
    action.refresh_from_db()
    assert not action.is_done
    assert [e.action for e in history_for(action.customer)] == ["action.reopened", "action.done"]


def test_action_changes_are_audited_on_the_customer(org, admin_user, sales_user):
    action = ActionFactory(customer=CustomerFactory(organization=org))
    services.action_update(
        action=action, user=admin_user, data={"assignee": sales_user, "description": "Neu"}
    )
    entry = history_for(action.customer).first()
    assert entry.data["changes"]["description"] == ["Nachfassen wegen Angebot", "Neu"]
    assert entry.data["changes"]["assignee"] == [None, sales_user.get_full_name()]
