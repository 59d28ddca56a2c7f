"""Payment terms are capped at a year, also when the browser's limit is bypassed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.models import Customer

from .factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_form_refuses_payment_terms_over_a_year_in_german(admin_client):
    response = admin_client.post(
        reverse("customers:create"), {"name": "Lang GmbH", "payment_terms_days": "366"}
    )
    assert response.status_code == 200
    assert "kleiner oder gleich 365" in " ".join(response.context["form"].errors["payment_terms_days"])
    assert not Customer.objects.exists()


def test_a_year_is_the_longest_payment_term(admin_client, org):
    response = admin_client.post(
        reverse("customers:create"), {"name": "Lang GmbH", "payment_terms_days": "365"}
    )
    assert response.status_code == 302
    assert Customer.objects.get().effective_payment_terms() == 365
    with pytest.raises(ValidationError) as exc:
        CustomerFactory.build(organization=org, payment_terms_days=400).full_clean()
    assert "payment_terms_days" in exc.value.error_dict
