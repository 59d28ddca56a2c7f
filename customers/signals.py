"""Signals for apps that build on customers (customers imports none of them)."""

from django.dispatch import Signal

# Sent inside the transaction of customer_update, after the row is saved, when the
# customer's own SEPA mandate data (IBAN, BIC, account holder, mandate reference,
# signature date) was part of the change; kwargs: customer, user, before (the stored
# values), after (the submitted ones). The payments app keeps its mandates - the one
# truth for direct debits - in step and copies the active mandate back onto the row.
# A receiver refuses the change by raising ValidationError keyed by those field names.
customer_mandate_changed = Signal()

# Sent inside the transaction of contact_create / contact_update, after the row is saved;
# kwargs: contact, user, before (the stored values of CONTACT_EDITABLE, empty for a new
# contact). The customer portal opens, invites or closes the contact's portal account.
contact_changed = Signal()
