"""The migration that replaces the "VAT liable" checkbox never turns a customer silently
VAT-exempt: an unticked domestic customer "needs review" (and is listed as such)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("customers", "0004_payment_terms_limit_and_vat_id_by_country")]
AFTER = [("customers", "0005_tax_treatment_replaces_vat_liable")]


@pytest.mark.django_db(transaction=True)
def test_it_sends_unticked_domestic_customers_to_review_and_keeps_the_others(org, capsys):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    Customer = executor.loader.project_state(BEFORE).apps.get_model("customers", "Customer")
    rows = {
        "K1": {"vat_liable": True, "tax_treatment": "domestic"},
        "K2": {"vat_liable": False, "tax_treatment": "exempt"},
        "K3": {"vat_liable": False, "tax_treatment": "eu_reverse_charge", "country": "AT"},
        "K4": {"vat_liable": False, "tax_treatment": "non_eu", "country": "CH"},
        "K5": {"vat_liable": False, "tax_treatment": "domestic"},
    }
    for number, fields in rows.items():
        Customer._base_manager.create(organization_id=org.pk, number=number, name=f"Kunde {number}", **fields)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps.get_model("customers", "Customer")
    treatments = dict(new._base_manager.values_list("number", "tax_treatment"))
    assert treatments == {
        "K1": "domestic",
        "K2": "needs_review",
        "K3": "eu_reverse_charge",
        "K4": "non_eu",
        "K5": "needs_review",
    }
    printed = capsys.readouterr().out
    assert "K2 Kunde K2" in printed and "K5 Kunde K5" in printed and "K1 " not in printed

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
