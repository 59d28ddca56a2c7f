from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from customers.models import Action, Customer, CustomerKind
from folders.models import Folder, FolderStatus
from organizations.access import require
from tickets.selectors import tickets_needing_attention

from .actions import action_entries, action_entry_count


@require("view")
def dashboard(request):
    today = timezone.localdate()
    actions = Action.objects.filter(done_at__isnull=True).select_related("customer", "assignee")
    context = {
        "customer_count": Customer.objects.filter(kind=CustomerKind.CUSTOMER).count(),
        "prospect_count": Customer.objects.filter(kind=CustomerKind.PROSPECT).count(),
        "active_folder_count": Folder.objects.filter(status=FolderStatus.ACTIVE).count(),
        # A folder's contract alerts (notice deadline, term end) are one entry, see
        # dashboard.actions.
        "overdue_count": action_entry_count(actions.filter(due_on__lt=today)),
        "overdue_actions": action_entries(
            actions.filter(due_on__lt=today).order_by("due_on", "id"), limit=10
        ),
        "my_actions": action_entries(
            actions.filter(assignee=request.user, due_on__gte=today).order_by("due_on", "id"), limit=10
        ),
        # Support tickets about to breach or in breach of their guaranteed response times.
        "ticket_alerts": tickets_needing_attention(limit=10),
    }
    return render(request, "dashboard/dashboard.html", context)
