"""Signals for apps that build on the organization's settings (organizations imports none of them)."""

from django.dispatch import Signal

# Sent inside the transaction of organization_update when the billing day changes;
# kwargs: organization, old_day, new_day, user.
billing_day_changed = Signal()

# Sent inside the transaction of a service about to change a billing day (the
# organization's, or one folder's when `folder` is given), before anything is written;
# kwargs: organization, folder, old_day, new_day. A receiver refuses the change by
# raising ValidationError (the billing app does while a run of the organization is
# active: its chunks must all lay out periods on the same day).
billing_day_change_requested = Signal()
