from __future__ import annotations

from django.shortcuts import render
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from customers.models import Action, Customer, CustomerKind
from folders.models import Folder, FolderStatus
from organizations.access import require

from .dashboard import action_entries, action_entry_count


@require("view")
def dashboard(request):
    today = timezone.localdate()
    actions = Action.objects.filter(done_at__isnull=True).select_related("customer", "assignee")
    context = {
        "customer_count": Customer.objects.filter(kind=CustomerKind.CUSTOMER).count(),
        "prospect_count": Customer.objects.filter(kind=CustomerKind.PROSPECT).count(),
        "active_folder_count": Folder.objects.filter(status=FolderStatus.ACTIVE).count(),
        # A folder's contract alerts (notice deadline, term end) are one entry, see
        # reports.dashboard.
        "overdue_count": action_entry_count(actions.filter(due_on__lt=today)),
        "overdue_actions": action_entries(
            actions.filter(due_on__lt=today).order_by("due_on", "id"), limit=10
        ),
        "my_actions": action_entries(
            actions.filter(assignee=request.user, due_on__gte=today).order_by("due_on", "id"), limit=10
        ),
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


def error_405(request, allowed: str = ""):
    """A wrong method on an action URL: mostly a reloaded or pasted address of a button."""
    response = render(request, "errors/405.html", {"back_url": _back_url(request)}, status=405)
    if allowed:
        response["Allow"] = allowed
    return response


def _back_url(request) -> str:
    """Where the action's button was: the referring page of this site, else the nearest
    page above the action's address (/customers/5/convert/ -> /customers/5/)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    path = request.path_info.rstrip("/")
    while "/" in path:
        path = path.rsplit("/", 1)[0]
        candidate = f"{path}/"
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return get_script_prefix().rstrip("/") + candidate
    return reverse("dashboard")


@require("view")
def search(request):
    from .search import Filters
    from .search import search as run_search

    q = request.GET.get("q", "")[:100]
    filters = Filters.from_query(request.GET)
    groups = run_search(q, filters=filters)
    return render(request, "reports/search.html", {"q": q, "groups": groups, "filters": filters})
