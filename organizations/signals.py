"""Signals for apps that build on the organization's settings (organizations imports none of them)."""

from django.dispatch import Signal

# Sent inside the transaction of organization_update when the billing day changes;
# kwargs: organization, old_day, new_day, user.
billing_day_changed = Signal()
