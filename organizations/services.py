from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .audit import audit_changes, audit_log, diff, snapshot
from .models import Membership, NumberFormat, NumberSequence, Organization
from .numbering import pattern_for, pattern_problems
from .signals import billing_day_change_requested, billing_day_changed

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


def organization_lock(*, organization: Organization) -> None:
    """Lock the organization's row until the caller's transaction ends.

    Taken by a billing-day change (before it asks whether a billing run is active) and by
    the start of a billing run: whichever comes second waits for the first to commit, so
    a run never starts between the question and the change and plans on the old day.
    (NO KEY: rows that merely refer to the organization are not held up.)"""
    list(
        Organization.objects.select_for_update(no_key=True)
        .filter(pk=organization.pk)
        .values_list("pk", flat=True)
    )


def organization_update(*, organization: Organization, user, data: dict) -> Organization:
    before = snapshot(organization)
    old_day = organization.billing_day
    with transaction.atomic():
        if "billing_day" in data and data["billing_day"] != old_day:
            # Before anything is set: a refusal leaves the organization as it was.
            organization_lock(organization=organization)
            billing_day_change_requested.send(
                sender=Organization,
                organization=organization,
                folder=None,
                old_day=old_day,
                new_day=data["billing_day"],
            )
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
        audit_changes(
            organization, changes, user=user, action="organization.changed", organization=organization
        )
    return organization


def member_user_resolve(
    *,
    organization: Organization,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str = "",
) -> AbstractBaseUser | None:
    """The existing user a new membership is for, or None when a new user is to be created.

    User accounts are shared by all organizations. An existing account is attached only
    when the admin also knows its e-mail address: a bare user name would let the admin of
    any organization pull in (and so learn about) another organization's users. Whether
    the address was missing or wrong gets the same message, so it does not tell either.
    Raises ValidationError keyed by the member form's fields.
    """
    User = get_user_model()
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise ValidationError({"username": exc.error_list})
    # Names differing only in case would be indistinguishable at the login prompt.
    taken = list(User.objects.filter(username__iexact=username))
    if taken:
        # Own members are on the members page anyway, so naming them reveals nothing.
        if Membership.objects.filter(organization=organization, user__in=taken).exists():
            message = _("This user is already a member of the organization.")
            raise ValidationError({"username": ValidationError(message, code="member")})
        wanted = (email or "").strip().casefold()
        user = next((u for u in taken if wanted and u.email.strip().casefold() == wanted), None)
        if user is None:
            message = _(
                "This user name is taken. To add an existing user, enter their e-mail address as well."
            )
            raise ValidationError({"username": ValidationError(message, code="username_taken")})
        return user
    if not password:
        raise ValidationError(
            {"password": ValidationError(_("A new user needs an initial password."), code="required")}
        )
    candidate = User(username=username, email=email, first_name=first_name, last_name=last_name)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.error_list})
    return None


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
    """Give a user a seat in the organization, creating the user if the name is new.

    An existing user keeps their own name and password: only the membership is added.
    """
    User = get_user_model()
    with transaction.atomic():
        user = member_user_resolve(
            organization=organization,
            username=username,
            email=email,
            first_name=first_name,
            last_name=last_name,
            password=password,
        )
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
            data={"user": user.username, "role": role},
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
    """Save the pattern of one number range after checking it can still number every
    record of that kind (see numbering.pattern_problems); refuses with the reasons.

    The range's counters stay locked while the check runs, so no number is issued
    between the check and the new pattern taking effect."""
    with transaction.atomic():
        list(NumberSequence.objects.select_for_update().filter(organization=organization, kind=kind))
        problems = pattern_problems(organization=organization, kind=kind, pattern=pattern)
        if problems:
            raise ValidationError({"pattern": problems})
        previous = pattern_for(organization=organization, kind=kind)
        fmt, _ = NumberFormat.objects.update_or_create(
            organization=organization, kind=kind, defaults={"pattern": pattern}
        )
        audit_log(
            organization=organization,
            user=actor,
            action="number_format.changed",
            obj=organization,
            data={"kind": kind, "pattern": pattern, "previous": previous},
        )
    return fmt
