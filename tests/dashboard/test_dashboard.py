"""The dashboard lists a contract once, however many of its alerts are open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import AlertKind, ContractAlert
from tests.customers.factories import ActionFactory, CustomerFactory
from tests.folders.factories import FolderFactory

pytestmark = pytest.mark.django_db


def _alert(folder, kind, day, user, text):
    action = ActionFactory(customer=folder.customer, due_on=day, assignee=user, description=text)
    ContractAlert.objects.create(
        organization=folder.organization, folder=folder, kind=kind, event_date=day, action=action
    )
    return action


def test_it_merges_a_folders_notice_deadline_and_term_end_into_one_entry(org, admin_user, admin_client):
    today = timezone.localdate()
    end = today + dt.timedelta(days=30)
    folder = FolderFactory(organization=org, customer=CustomerFactory(organization=org, name="Krüger KG"))
    _alert(folder, AlertKind.NOTICE_DEADLINE, end, admin_user, "Kündigungsfrist für Ordner Telefonie")
    _alert(folder, AlertKind.TERM_END, end, admin_user, "Vertragslaufzeit Telefonie endet")
    other = FolderFactory(organization=org, customer=folder.customer)
    _alert(other, AlertKind.TERM_END, end, admin_user, "Vertragslaufzeit Drucker endet")
    ActionFactory(customer=folder.customer, due_on=end, assignee=admin_user, description="Rückruf")
    ActionFactory(customer=folder.customer, due_on=end, assignee=admin_user, description="Rückruf")

    response = admin_client.get(reverse("dashboard"))
    html = response.content.decode()
    entries = response.context["my_actions"]
    assert len(entries) == 4  # the folder once, the other folder, two typed-in actions
    assert "Kündigungsfrist für Ordner Telefonie" in html
    assert "Vertragslaufzeit Telefonie endet" not in html
    assert f"Derselbe Vertrag: Vertragslaufzeit endet {end:%d.%m.%Y}" in html
    assert "Vertragslaufzeit Drucker endet" in html


def test_it_counts_a_contracts_overdue_alerts_once(org, admin_user, admin_client):
    today = timezone.localdate()
    folder = FolderFactory(organization=org)
    _alert(folder, AlertKind.NOTICE_DEADLINE, today - dt.timedelta(days=5), admin_user, "Frist")
    _alert(folder, AlertKind.TERM_END, today - dt.timedelta(days=2), admin_user, "Ende")
    ActionFactory(
        customer=folder.customer,
        due_on=today - dt.timedelta(days=1),
        assignee=admin_user,
        description="Rückruf",
    )

    response = admin_client.get(reverse("dashboard"))
    assert response.context["overdue_count"] == 2
    assert [e.action.description for e in response.context["overdue_actions"]] == ["Frist", "Rückruf"]
