from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from customers.models import Action, Customer, CustomerKind
from folders.models import Folder, FolderStatus
from organizations.access import require


@require("view")
def dashboard(request):
    today = timezone.localdate()
    actions = Action.objects.filter(done_at__isnull=True).select_related("customer", "assignee")
    context = {
        "customer_count": Customer.objects.filter(kind=CustomerKind.CUSTOMER).count(),
        "prospect_count": Customer.objects.filter(kind=CustomerKind.PROSPECT).count(),
        "active_folder_count": Folder.objects.filter(status=FolderStatus.ACTIVE).count(),
        "overdue_count": actions.filter(due_on__lt=today).count(),
        "overdue_actions": actions.filter(due_on__lt=today).order_by("due_on")[:10],
        "my_actions": actions.filter(assignee=request.user, due_on__gte=today).order_by("due_on")[:10],
    }
    return render(request, "reports/dashboard.html", context)


def error_400(request, exception=None):
    return render(request, "errors/400.html", status=400)


def error_403(request, exception=None):
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    return render(request, "errors/500.html", status=500)


@require("view")
def search(request):
    from .search import search as run_search

    q = request.GET.get("q", "")[:100]
    groups = run_search(q)
    return render(request, "reports/search.html", {"q": q, "groups": groups})
