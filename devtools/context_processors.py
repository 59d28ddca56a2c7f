from __future__ import annotations

from django.conf import settings


def devtools(request) -> dict[str, bool]:
    """Whether the developer tools exist (DEBUG), so the user menu links them only then."""
    return {"devtools_enabled": settings.DEBUG}
