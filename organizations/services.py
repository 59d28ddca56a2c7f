from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from .audit import audit_log, diff, snapshot
from .models import Membership, NumberFormat, Organization
from .signals import billing_day_changed


def organization_update(*, organization: Organization, user, data: dict) -> Organization:
    before = snapshot(organization)
    old_day = organization.billing_day
    with transaction.atomic():
        for key, value in data.items():
            if key == "logo" and value is False:  # "clear" ticked
                value = ""
            elif key == "logo" and value is None:
                continue
            setattr(organization, key, value)
        organization.full_clean()
        organization.save()
        if organization.billing_day != old_day:
            billing_day_changed.send(
                sender=Organization,
                organization=organization,
                old_day=old_day,
                new_day=organization.billing_day,
                user=user,
            )
        changes = diff(before, snapshot(organization))
        if changes:
            audit_log(
                organization=organization,
                user=user,
                action="organization.changed",
                obj=organization,
                data={"changes": changes},
            )
    return organization


def member_add(
    *,
    organization: Organization,
    actor,
    username: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str = "",
) -> Membership:
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=email, first_name=first_name, last_name=last_name)
            user.set_password(password)
            user.full_clean()
            user.save()
        membership = Membership.objects.create(organization=organization, user=user, role=role)
        audit_log(
            organization=organization,
            user=actor,
            action="membership.added",
            obj=organization,
            data={"user": username, "role": role},
        )
    return membership


def member_set_role(*, membership: Membership, actor, role: str) -> Membership:
    with transaction.atomic():
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit_log(
            organization=membership.organization,
            user=actor,
            action="membership.role_changed",
            obj=membership.organization,
            data={"user": membership.user.username, "changes": {"role": [old, role]}},
        )
    return membership


def number_format_set(*, organization: Organization, actor, kind: str, pattern: str) -> NumberFormat:
    with transaction.atomic():
        fmt, _ = NumberFormat.objects.update_or_create(
            organization=organization, kind=kind, defaults={"pattern": pattern}
        )
        audit_log(
            organization=organization,
            user=actor,
            action="number_format.changed",
            obj=organization,
            data={"kind": kind, "pattern": pattern},
        )
    return fmt
