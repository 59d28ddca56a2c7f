"""The migration that makes mandates the one truth for every customer: mandate data on a
customer who pays by transfer (a folder may pay by direct debit) becomes a SepaMandate;
one with a mandate already, or with incomplete data, is left as it is."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("payments", "0005_dunning")]
AFTER = [("payments", "0006_fill_mandates_of_customers_paying_otherwise")]


@pytest.mark.django_db(transaction=True)
def test_it_makes_a_mandate_of_every_complete_mandate_on_a_customer(org):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Customer = apps.get_model("customers", "Customer")
    SepaMandate = apps.get_model("payments", "SepaMandate")
    signed = dt.date(2025, 3, 1)
    mandate = {"iban": "DE02120300000000202051", "mandate_signed_on": signed}
    transfer = Customer._base_manager.create(
        organization_id=org.pk, number="K1", name="Überweiser GmbH", mandate_reference="M-1", **mandate
    )
    has_one = Customer._base_manager.create(
        organization_id=org.pk, number="K2", name="Schon da AG", mandate_reference="M-2", **mandate
    )
    SepaMandate._base_manager.create(
        organization_id=org.pk,
        customer=has_one,
        reference="M-2",
        signed_on=signed,
        iban=mandate["iban"],
        debtor_name="x",
    )
    Customer._base_manager.create(
        organization_id=org.pk,
        number="K3",
        name="Ohne Datum KG",
        mandate_reference="M-3",
        iban=mandate["iban"],
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("payments", "SepaMandate")
    made = list(
        new._base_manager.order_by("reference").values_list("customer_id", "reference", "status", "signed_on")
    )
    assert made == [(transfer.pk, "M-1", "active", signed), (has_one.pk, "M-2", "active", signed)]

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
