from __future__ import annotations

from .roles import PERMISSIONS, role_has


class _Perms:
    """`{% if perms_org.invoices.issue %}`-style lookups for templates."""

    def __init__(self, role: str | None, prefix: str = ""):
        self._role = role
        self._prefix = prefix

    def __getattr__(self, name: str):
        key = f"{self._prefix}{name}"
        if key in PERMISSIONS:
            return role_has(self._role, key)
        return _Perms(self._role, f"{key}.")

    def __bool__(self) -> bool:
        return False


def organization(request):
    return {
        "organization": getattr(request, "organization", None),
        "memberships": getattr(request, "memberships", []),
        "role": getattr(request, "role", None),
        "can": _Perms(getattr(request, "role", None)),
    }
