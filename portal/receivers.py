"""The portal follows the contacts (customers cannot import the portal: it sends a signal)."""

from __future__ import annotations

from customers.signals import contact_changed


def _contact_changed(sender, *, contact, user, before, **kwargs) -> None:
    from .services import portal_access_follow

    portal_access_follow(contact=contact, user=user, before=before)


def connect() -> None:
    contact_changed.connect(_contact_changed, dispatch_uid="portal.contact_changed")
