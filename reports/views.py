from __future__ import annotations

from django.shortcuts import render

from organizations.access import require


@require("view")
def search(request):
    from .search import Filters
    from .search import search as run_search

    q = request.GET.get("q", "")[:100]
    filters = Filters.from_query(request.GET)
    groups = run_search(q, filters=filters)
    return render(request, "reports/search.html", {"q": q, "groups": groups, "filters": filters})
