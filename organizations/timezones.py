"""Every time a person reads is shown in the organization's time zone.

Datetimes are stored in UTC. The middleware (for requests) and the tasks that render
documents (for PDFs and e-mails) make the organization's zone the current one, so Django's
`|date` filter and `timezone.localdate()` follow it; Python code that formats a datetime
itself uses `local_datetime`, never `date_format` on the raw value (that prints UTC).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.utils import formats, timezone

DEFAULT_TIME_ZONE = "Europe/Berlin"


@cache
def zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
    return [(name, name.replace("_", " ")) for name in names if "/" in name or name == "UTC"]


def zone_of(organization) -> zoneinfo.ZoneInfo:
    name = getattr(organization, "time_zone", "") or settings.TIME_ZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@contextmanager
def organization_time(organization):
    """Make the organization's time zone the current one for the block."""
    with timezone.override(zone_of(organization) if organization is not None else None):
        yield


def local_datetime(value: dt.datetime | None, fmt: str = "SHORT_DATETIME_FORMAT") -> str:
    """A stored datetime as the reader sees it: in the current (organization's) time zone,
    in the active language's format. Naive values are taken as already local."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, fmt)
