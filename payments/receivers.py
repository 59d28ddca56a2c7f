"""What payments does when a lower app reports a change (connected in AppConfig.ready)."""

from __future__ import annotations

from django.utils import timezone

from customers.signals import customer_mandate_changed

from .mandates import customer_mandate_follow


def _customer_mandate_changed(sender, *, customer, user, before, after, **kwargs) -> None:
    customer_mandate_follow(customer=customer, user=user, after=after, today=timezone.localdate())


def connect() -> None:
    customer_mandate_changed.connect(_customer_mandate_changed, dispatch_uid="payments.customer_mandate")
