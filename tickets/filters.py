from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer
from customers.selectors import organization_members
from organizations.filters import StyledFilterSet

from .models import ACTIVE_STATUSES, Ticket, TicketPriority, TicketStatus
from .selectors import overdue_q

# "Active" (the default) is a status filter value of its own: new, open and waiting.
ACTIVE = "active"


class TicketFilter(StyledFilterSet):
    """The queue's filter bar; its state lives in the URL, invalid values are ignored."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"placeholder": _("Number, subject, customer…"), "type": "search"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        method="filter_status",
        choices=[(ACTIVE, _("active (new, open, waiting)")), *TicketStatus.choices],
        empty_label=_("All"),
    )
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=TicketPriority.choices, empty_label=_("All")
    )
    assignee = django_filters.ChoiceFilter(
        label=_("Assignee"), method="filter_assignee", empty_label=_("All")
    )
    customer = django_filters.ModelChoiceFilter(
        label=_("Customer"), queryset=Customer.objects.none(), empty_label=_("All")
    )
    overdue = django_filters.ChoiceFilter(
        label=_("Response times"),
        method="filter_overdue",
        choices=[("yes", _("overdue only"))],
        empty_label=_("All"),
    )

    class Meta:
        model = Ticket
        fields = ["q", "status", "priority", "assignee", "customer", "overdue"]

    def __init__(self, *args, organization, user, **kwargs):
        super().__init__(*args, **kwargs)
        members = organization_members(organization=organization)
        self.filters["assignee"].extra["choices"] = [
            ("me", _("me")),
            ("none", _("nobody")),
            *[(str(u.pk), u.get_full_name() or u.username) for u in members],
        ]
        self.filters["customer"].queryset = Customer.objects.filter(
            pk__in=Ticket.objects.values("customer")
        ).order_by("name")
        self.user = user
        for name, field in self.form.fields.items():
            field.widget.attrs.setdefault("id", f"filter-{name}")

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value) | Q(subject__icontains=value) | Q(customer__name__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        if value == ACTIVE:
            return queryset.filter(status__in=ACTIVE_STATUSES)
        return queryset.filter(status=value)

    def filter_assignee(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assignee=self.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=int(value)) if value.isdigit() else queryset

    def filter_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q(timezone.now())) if value == "yes" else queryset
