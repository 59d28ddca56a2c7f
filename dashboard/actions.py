"""The dashboard's action lists, with one entry per contract.

The daily contract alerts (billing.services.contract_alerts_create) raise one action per
folder for the notice deadline and another for the term end - on the same day when the
notice period is zero, and both land in the same list. A clerk reads that as the same
contract listed twice. Here the open actions of a folder's alerts become one entry: the
first due action, with the other alert dates beside it. Actions typed in by people are
never merged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet

from billing.models import AlertKind, ContractAlert
from customers.models import Action

# Actions loaded per list before merging, so that a list of ten still shows ten
# entries when some of them are merged.
LOAD = 40


@dataclass
class Entry:
    action: Action
    # The folder's other alerts merged into this entry: (label, date), by date.
    also: list[tuple[str, dt.date]] = field(default_factory=list)


def _alerts_by_action(action_ids: list[int]) -> dict[int, ContractAlert]:
    alerts = ContractAlert.objects.filter(action_id__in=action_ids).only("action_id", "folder_id", "kind")
    return {alert.action_id: alert for alert in alerts}


def merge_contract_alerts(actions: list[Action], alerts: dict[int, ContractAlert]) -> list[Entry]:
    """One entry per action, except that the alert actions of one folder share the entry
    of the first of them (the order of `actions` is kept)."""
    entries: list[Entry] = []
    by_folder: dict[int, Entry] = {}
    for action in actions:
        alert = alerts.get(action.pk)
        if alert is None:
            entries.append(Entry(action))
            continue
        entry = by_folder.get(alert.folder_id)
        if entry is None:
            by_folder[alert.folder_id] = entry = Entry(action)
            entries.append(entry)
        else:
            entry.also.append((AlertKind(alert.kind).label, action.due_on))
    return entries


def action_entries(actions: QuerySet, *, limit: int) -> list[Entry]:
    """The first `limit` entries of an ordered queryset of open actions."""
    loaded = list(actions[:LOAD])
    return merge_contract_alerts(loaded, _alerts_by_action([a.pk for a in loaded]))[:limit]


def action_entry_count(actions: QuerySet) -> int:
    """How many entries the list has in full: alert actions count once per folder."""
    alerts = ContractAlert.objects.filter(action__in=actions.order_by().values("pk"))
    return actions.exclude(pk__in=alerts.values("action_id")).count() + (
        alerts.values("folder_id").distinct().count()
    )
