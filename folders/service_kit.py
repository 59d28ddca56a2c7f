"""What every write of the folders app shares: setting the fields a service may set, the
history entry filed under the folder, and today's date.

Changes to lines and equipment are filed under their folder (`target=folder`), so the
folder page shows one complete history (Verlauf).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from organizations.audit import audit_log

from .models import Folder


def local_today() -> dt.date:
    return timezone.localdate()


def apply_fields(obj, data: dict[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key, value in data.items():
        if key in allowed:
            setattr(obj, key, value)


def folder_log(*, folder: Folder, user, action: str, obj=None, data: dict[str, Any] | None = None) -> None:
    audit_log(
        organization=folder.organization,
        user=user,
        action=action,
        obj=obj or folder,
        target=folder if obj is not None else None,
        data=data,
    )
