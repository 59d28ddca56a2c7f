"""How the demo seed recognises its own rows: by the fixed keys in `DemoRecord`.

Each app's demo module asks `records.to_make(key)` for every row it wants. The first
run makes the row and keeps its key; every later run finds the key and makes nothing,
whatever people have done to the row since (renamed, converted, deleted). Rows the seed
did not make have no key, so the seed never hands them demo content.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import DemoRecord

M = TypeVar("M", bound=models.Model)


class DemoRecords:
    """The demo keys of one organization, for one app's demo module (`namespace`)."""

    def __init__(self, organization, namespace: str):
        self.organization = organization
        self.namespace = namespace
        self._rows = {r.key: r for r in DemoRecord.objects.filter(organization=organization)}
        # An organization seeded before the seed kept keys has this app's demo rows but
        # no keys for them: the first run takes those rows over (found by the natural
        # key they were made with) instead of making them again.
        self.adopting = not any(key.startswith(f"{namespace}:") for key in self._rows)

    def known(self, key: str) -> bool:
        return key in self._rows

    def get(self, key: str, model: type[M]) -> M | None:
        """The row made under `key`; None if none was made or it has been deleted since."""
        return self.get_many([key], model).get(key)

    def get_many(self, keys: Iterable[str], model: type[M]) -> dict[str, M]:
        """The rows still present for `keys`, by key."""
        content_type = ContentType.objects.get_for_model(model)
        ids = {
            key: row.object_id
            for key in keys
            if (row := self._rows.get(key)) is not None and row.content_type_id == content_type.pk
        }
        found = model.objects.filter(organization=self.organization, pk__in=ids.values()).in_bulk()
        return {key: found[pk] for key, pk in ids.items() if pk in found}

    def to_make(self, key: str, *, adopt: models.QuerySet | None = None) -> bool:
        """True when the row under `key` is still to be made: the caller makes it and
        calls `remember`. False when the seed made it before, also when it has been
        deleted since. While adopting, a row `adopt` finds counts as made before."""
        if key in self._rows:
            return False
        if adopt is not None and self.adopting:
            found = adopt.first()
            if found is not None:
                self.remember(key, found)
                return False
        return True

    def once(self, key: str, *, done_before: models.QuerySet | None = None) -> bool:
        """True the first time a step runs for the organization, then never again.

        While adopting, rows in `done_before` tell that an earlier seed ran the step.
        """
        if key in self._rows:
            return False
        already = done_before is not None and self.adopting and done_before.exists()
        self.remember(key, None)
        return not already

    def remember(self, key: str, obj: models.Model | None) -> None:
        self._rows[key] = DemoRecord.objects.create(
            organization=self.organization,
            key=key,
            content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
            object_id=obj.pk if obj is not None else None,
        )

    def keys(self, prefix: str) -> list[str]:
        return [key for key in self._rows if key.startswith(prefix)]
