"""Error pages Django has no handler setting for."""

from __future__ import annotations

from .views import error_405


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
