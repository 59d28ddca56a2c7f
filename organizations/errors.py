"""The error pages of the whole site (the handlerNNN views of config.urls and the 405 page
of MethodNotAllowedPageMiddleware). They belong to no feature app, so they sit on the
ground floor, where every layer may reach them."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme


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


class MethodNotAllowedPageMiddleware:
    """Django answers a GET on a POST-only action with an empty 405. People get there by
    reloading or bookmarking the address a button posted to; they get a page that says
    so and leads back, like the other error pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.streaming and not response.content:
            return error_405(request, allowed=response.get("Allow", ""))
        return response
