"""Adding members: user names are checked, existing accounts need their e-mail address."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from organizations.models import AuditEntry, Membership
from organizations.services import member_add
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ADD = "/organization/members/add/"
TAKEN = "Dieser Benutzername ist vergeben"


def _errors(response, field):
    return " ".join(str(e) for e in response.context["form"].errors.get(field, []))


def test_it_refuses_a_user_name_with_forbidden_characters_instead_of_crashing(org, admin_client):
    response = admin_client.post(
        ADD, {"username": "bad name!", "password": "a-Long-pass-99", "role": "sales"}
    )
    assert response.status_code == 200
    assert "gültigen Benutzernamen" in _errors(response, "username")
    assert not get_user_model().objects.filter(username="bad name!").exists()


@pytest.mark.parametrize(
    ("password", "expected"),
    [("kurz1", "zu kurz"), ("password123", "zu üblich"), ("neukollege", "zu ähnlich")],
)
def test_it_refuses_a_weak_initial_password(org, admin_client, password, expected):
    response = admin_client.post(ADD, {"username": "neukollege", "password": password, "role": "sales"})
    assert response.status_code == 200
    assert expected in _errors(response, "password")
    assert not get_user_model().objects.filter(username="neukollege").exists()


def test_it_creates_a_new_user_with_a_good_password(org, admin_client):
    response = admin_client.post(
        ADD,
        {
            "username": "neu.kollege",
            "email": "neu@example.com",
            "password": "a-Long-pass-99",
            "role": "sales",
        },
    )
    assert response.status_code == 302
    user = get_user_model().objects.get(username="neu.kollege")
    assert user.check_password("a-Long-pass-99")
    assert Membership.objects.get(organization=org, user=user).role == "sales"
    assert AuditEntry.objects.filter(organization=org, action="membership.added").exists()


def test_a_bare_user_name_does_not_attach_another_organizations_user(org, outsider, admin_client):
    response = admin_client.post(ADD, {"username": "outsider", "role": "admin"})
    assert response.status_code == 200
    assert TAKEN in _errors(response, "username")
    assert not Membership.objects.filter(organization=org, user=outsider).exists()


def test_a_wrong_e_mail_gets_the_same_message_as_none(org, outsider, admin_client):
    without = admin_client.post(ADD, {"username": "outsider", "role": "admin"})
    wrong = admin_client.post(ADD, {"username": "outsider", "email": "guess@example.com", "role": "admin"})
    with_password = admin_client.post(
        ADD,
        {"username": "outsider", "email": "guess@example.com", "password": "a-Long-pass-99", "role": "admin"},
    )
    messages = {str(r.context["form"].errors.as_data()) for r in (without, wrong, with_password)}
    assert len(messages) == 1
    assert TAKEN in _errors(wrong, "username")
    assert not Membership.objects.filter(organization=org, user=outsider).exists()
    outsider.refresh_from_db()
    assert outsider.check_password(PASSWORD)


def test_an_existing_user_is_attached_with_the_matching_e_mail(org, outsider, admin_client):
    response = admin_client.post(
        ADD,
        {
            "username": "outsider",
            "email": "OUTSIDER@Example.com",
            "password": "a-Long-pass-99",
            "role": "sales",
        },
    )
    assert response.status_code == 302
    assert Membership.objects.get(organization=org, user=outsider).role == "sales"
    # Their account stays theirs: the password typed by the admin is not set.
    outsider.refresh_from_db()
    assert outsider.check_password(PASSWORD)


def test_a_user_name_differing_only_in_case_counts_as_taken(org, outsider, admin_client):
    response = admin_client.post(ADD, {"username": "Outsider", "password": "a-Long-pass-99", "role": "sales"})
    assert response.status_code == 200
    assert TAKEN in _errors(response, "username")
    assert get_user_model().objects.filter(username__iexact="outsider").count() == 1


def test_an_existing_member_is_named_as_such(org, admin_client, sales_user):
    response = admin_client.post(ADD, {"username": "sales", "role": "admin"})
    assert response.status_code == 200
    assert "gehört der Organisation bereits an" in _errors(response, "username")
    assert Membership.objects.get(organization=org, user=sales_user).role == "sales"


def test_only_user_admins_may_add_members(org, billing_user, client_for):
    response = client_for(billing_user).post(
        ADD, {"username": "neu", "password": "a-Long-pass-99", "role": "admin"}
    )
    assert response.status_code == 403
    assert not get_user_model().objects.filter(username="neu").exists()


def test_the_service_refuses_what_the_form_refuses(org, admin_user, outsider):
    for kwargs, field in [
        ({"username": "bad name!", "password": "a-Long-pass-99"}, "username"),
        ({"username": "outsider"}, "username"),
        ({"username": "neu", "password": "123"}, "password"),
    ]:
        with pytest.raises(ValidationError) as exc:
            member_add(organization=org, actor=admin_user, role="sales", **kwargs)
        assert set(exc.value.error_dict) == {field}
    assert not Membership.objects.filter(organization=org, user=outsider).exists()
    assert not get_user_model().objects.filter(username__in=["bad name!", "neu"]).exists()
