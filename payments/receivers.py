"""What payments tells the lower apps and does when they report a change (AppConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from customers.signals import customer_mandate_changed
from documents.extensions import mandate_lookup_register

from .mandates import customer_mandate_follow, mandates_on_file


def _customer_mandate_changed(sender, *, customer, user, before, after, **kwargs) -> None:
    customer_mandate_follow(customer=customer, user=user, after=after, today=timezone.localdate())


def connect() -> None:
    mandate_lookup_register(mandates_on_file)
    customer_mandate_changed.connect(_customer_mandate_changed, dispatch_uid="payments.customer_mandate")
