"""Every write of the customer portal: accounts, invitations, a contact's own data.

Portal accounts follow the contact (`portal_access_follow`, called by the receiver of
customers' `contact_changed` signal, inside the contact's transaction): ticking "portal
access" on an active contact with an e-mail address creates the account and sends the
invitation; taking access away or deactivating the contact closes it (the portal's door,
`portal.access.portal_view`, checks on every request, so open sessions end at once).
Mails go to the worker after commit (portal.tasks).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers import services as customer_services
from customers.models import Contact, Customer
from organizations.audit import audit_log, diff
from organizations.models import Membership
from organizations.validators import bic_for_iban, normalize_iban

from .models import PortalAccount

User = get_user_model()

ACCESS_FIELDS = ("is_active", "has_portal_access", "email")
# What a contact with billing rights may change of its company, as the portal form names it.
BILLING_FIELDS = ("invoice_email", "iban", "bic", "account_holder")


def contact_may_use_portal(values: dict[str, Any]) -> bool:
    return bool(values.get("is_active") and values.get("has_portal_access") and values.get("email"))


def _account_create(contact: Contact) -> PortalAccount:
    """A user of its own for the contact: a generated user name (the same e-mail address
    may be a contact elsewhere too), the contact's e-mail for the login, no password yet."""
    user = User(
        username=f"portal-{uuid.uuid4().hex[:16]}",
        email=contact.email,
        first_name=contact.first_name[:150],
        last_name=contact.last_name[:150],
    )
    user.set_unusable_password()
    user.save()
    return PortalAccount.objects.create(organization_id=contact.organization_id, contact=contact, user=user)


def _sync_user(account: PortalAccount, contact: Contact) -> None:
    user = account.user
    wanted = {
        "email": contact.email,
        "first_name": contact.first_name[:150],
        "last_name": contact.last_name[:150],
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    if changed:
        for name in changed:
            setattr(user, name, wanted[name])
        user.save(update_fields=changed)


def portal_access_follow(*, contact: Contact, user, before: dict[str, Any]) -> PortalAccount | None:
    """Keep the contact's portal account in step with the contact (see module doc)."""
    account = PortalAccount.objects.select_related("user").filter(contact=contact).first()
    if account is not None:
        _sync_user(account, contact)
    opened = contact_may_use_portal({name: getattr(contact, name) for name in ACCESS_FIELDS})
    was_open = contact_may_use_portal(before)
    if opened and not was_open:
        if account is None or account.activated_at is None:
            return portal_invite(contact=contact, user=user)
        _access_audit(account, contact=contact, user=user, action="portal.access_opened")
    elif was_open and not opened and account is not None:
        _access_audit(account, contact=contact, user=user, action="portal.access_closed")
    return account


def _access_audit(account: PortalAccount, *, contact: Contact, user, action: str) -> None:
    audit_log(
        organization=contact.organization,
        user=user,
        action=action,
        obj=account,
        target=contact.customer,
        data={"contact": str(contact)},
    )


def portal_invite(*, contact: Contact, user) -> PortalAccount:
    """Send (or send again) the invitation: a link to set a password, valid for
    PORTAL_INVITATION_DAYS, usable once; an earlier invitation's link stops working."""
    from . import tasks

    if not contact_may_use_portal({name: getattr(contact, name) for name in ACCESS_FIELDS}):
        raise ValidationError(
            _("Only an active contact with an e-mail address and portal access can be invited."),
            code="not_invitable",
        )
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().filter(contact=contact).first()
        if account is None:
            account = _account_create(contact)
        account.invited_at = timezone.now()
        account.save(update_fields=["invited_at"])
        audit_log(
            organization=contact.organization,
            user=user,
            action="portal.invited",
            obj=account,
            target=contact.customer,
            data={"contact": str(contact), "email": contact.email},
        )
        account_id, organization_id = account.pk, account.organization_id
        transaction.on_commit(lambda: tasks.send_invitation.delay(account_id, organization_id))
    return account


def portal_account_activate(*, account: PortalAccount) -> PortalAccount:
    """The contact set its password (from the invitation or a reset link)."""
    with transaction.atomic():
        account = PortalAccount.objects.select_for_update().get(pk=account.pk)
        if account.activated_at is None:
            account.activated_at = timezone.now()
            account.save(update_fields=["activated_at"])
        audit_log(
            organization=account.organization,
            user=account.user,
            action="portal.password_set",
            obj=account,
            target=account.contact.customer,
            data={"contact": str(account.contact)},
        )
    return account


def portal_billing_change(*, account: PortalAccount, data: dict[str, Any]) -> Customer:
    """A contact with billing rights changes its company's invoice e-mail or bank account.

    The change goes through the customers' own service (audited there, and a changed IBAN
    of a company paying by direct debit reaches the payments app, which records it as an
    amendment of the active mandate); the staff are told by a follow-up action for the
    account manager, an audit entry and an e-mail to the organization's address.
    """
    from . import tasks

    if not account.may_change_billing_data:
        raise ValidationError(_("You may not change the billing data of your company."), code="no_rights")
    unknown = set(data) - set(BILLING_FIELDS)
    if unknown:
        raise ValueError(f"Not editable in the portal: {', '.join(sorted(unknown))}")
    contact = account.contact
    with transaction.atomic():
        customer = Customer.objects.select_for_update().get(pk=contact.customer_id)
        before = {name: getattr(customer, name) for name in BILLING_FIELDS}
        wanted = {**before, **{k: (v or "").strip() for k, v in data.items()}}
        wanted["iban"] = normalize_iban(wanted["iban"])
        wanted["bic"] = wanted["bic"].replace(" ", "").upper()
        if wanted["iban"] != before["iban"] and wanted["bic"] == before["bic"]:
            wanted["bic"] = ""  # the old bank's BIC does not go with a new IBAN
        if wanted["iban"]:
            wanted["bic"] = bic_for_iban(wanted["iban"], wanted["bic"])
        changes = {k: v for k, v in wanted.items() if v != before[k]}
        if not changes:
            return customer
        customer = customer_services.customer_update(customer=customer, user=account.user, data=changes)
        after = {name: getattr(customer, name) for name in BILLING_FIELDS}
        shown = diff(before, after)
        if "iban" in shown:
            # Only the end of the numbers goes into the notice and its action.
            shown["iban"] = [_masked(before["iban"]), _masked(after["iban"])]
        audit_log(
            organization=customer.organization,
            user=account.user,
            action="portal.billing_data_changed",
            obj=customer,
            data={"contact": str(contact), "changes": shown},
        )
        with translation.override(settings.LANGUAGE_CODE):
            # For the staff, in the back office's language, whatever the contact reads.
            staff_summary = ", ".join(
                f"{_label(k)}: {old or '—'} → {new or '—'}" for k, (old, new) in shown.items()
            )
            description = _("%(contact)s changed the billing data in the customer portal: %(changes)s") % {
                "contact": contact,
                "changes": staff_summary,
            }
        manager = customer.owner
        if (
            manager is not None
            and not Membership.objects.filter(organization_id=customer.organization_id, user=manager).exists()
        ):
            manager = None  # a former member gets no action; the organization's mail still goes out
        customer_services.action_create(
            customer=customer,
            user=account.user,
            due_on=timezone.localdate(),
            assignee=manager,
            description=description,
        )
        account_id, organization_id = account.pk, account.organization_id
        transaction.on_commit(
            lambda: tasks.send_billing_notice.delay(account_id, organization_id, staff_summary)
        )
    return customer


def _masked(iban: str) -> str:
    return f"…{iban[-4:]}" if iban else ""


def _label(name: str) -> str:
    return str(Customer._meta.get_field(name).verbose_name)
