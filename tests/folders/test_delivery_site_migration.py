"""The migration that turns the delivery addresses of existing folders into sites."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("folders", "0006_folder_delivery_site")]
AFTER = [("folders", "0007_fill_delivery_sites")]


@pytest.mark.django_db(transaction=True)
def test_it_makes_one_site_per_distinct_folder_address_with_the_most_used_as_default():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Organization = old.get_model("organizations", "Organization")
    Customer = old.get_model("customers", "Customer")
    Folder = old.get_model("folders", "Folder")
    org = Organization.objects.create(slug="nordtek", name="Nordtek")
    customer = Customer.objects.create(organization=org, number="K00001", name="Brandt GmbH")
    bare = Customer.objects.create(organization=org, number="K00002", name="Ohne Ordner AG")

    def folder(number, street, city):
        return Folder.objects.create(
            organization=org,
            customer=customer,
            number=number,
            name=number,
            delivery_name="Brandt GmbH",
            delivery_street=street,
            delivery_postal_code="20457",
            delivery_city=city,
        )

    first = folder("O1", "Marktplatz 1", "Hamburg")
    second = folder("O2", "Lagerweg 5", "Hamburg")
    third = folder("O3", "Lagerweg 5 ", "Hamburg")  # the same address, typed with a space
    empty = folder("O4", "", "")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Site = new.get_model("customers", "DeliverySite")
    Folder = new.get_model("folders", "Folder")
    sites = list(Site.objects.filter(customer_id=customer.pk).order_by("-is_default", "street"))
    assert [(s.street, s.is_default) for s in sites] == [("Lagerweg 5", True), ("Marktplatz 1", False)]
    assert Folder.objects.get(pk=first.pk).delivery_site_id == sites[1].pk
    assert Folder.objects.get(pk=second.pk).delivery_site_id == sites[0].pk
    assert Folder.objects.get(pk=third.pk).delivery_site_id == sites[0].pk
    assert Folder.objects.get(pk=empty.pk).delivery_site_id is None
    # The folders' own address fields are untouched (documents and other code print them).
    assert Folder.objects.get(pk=third.pk).delivery_street == "Lagerweg 5 "
    assert not Site.objects.filter(customer_id=bare.pk).exists()

    # Leave the database as the other tests expect it: every app at its latest migration
    # (going back to BEFORE also unapplied the apps that depend on folders).
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
