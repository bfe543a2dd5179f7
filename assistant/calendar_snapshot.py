"""Reading what the core needs from the calendar: which of our objects changed there.

One sync-collection REPORT with the remembered token (a full listing when there is none
or the server refuses it) names what changed; only our own objects whose ETag moved are
fetched. The calendar's URL and whether it takes tasks are remembered, so a cycle with
nothing new costs one request.
"""

from __future__ import annotations

import logging
from typing import Any

from assistant.adapters.caldav import CalendarStore, href_path
from assistant.core.model import CalendarRecord, CalendarSnapshot, ServerObject

log = logging.getLogger(__name__)


def read_calendar(store: CalendarStore, records: dict[str, CalendarRecord], meta: dict[str, Any]) -> CalendarSnapshot:
    """Our objects that changed on the server since the last cycle; updates `meta`'s token."""
    if meta.get("calendar_url") != store.url or "calendar_vtodo" not in meta:
        meta["calendar_url"] = store.url
        meta["calendar_vtodo"] = store.supports_vtodo()
        meta.pop("calendar_sync_token", None)
    changes = store.changes(meta.get("calendar_sync_token"))
    if changes.token:
        meta["calendar_sync_token"] = changes.token
    ours = {href_path(r.href): r for r in records.values() if r.href}
    changed: dict[str, ServerObject] = {}
    if changes.full:
        for path, record in ours.items():
            if path not in changes.objects:
                if not record.deleted_by_user:
                    changed[record.uid] = ServerObject(record.href, None, None)
            elif changes.objects[path] != record.etag:
                changed[record.uid] = _fetch(store, record)
    else:
        for path, etag in changes.objects.items():
            found = ours.get(path)
            if found is None:
                continue  # not ours: never read, never touched
            if etag is None:
                if not found.deleted_by_user:
                    changed[found.uid] = ServerObject(found.href, None, None)
            elif etag != found.etag:
                changed[found.uid] = _fetch(store, found)
    if changed:
        log.debug("Calendar: %d of our objects changed on the server", len(changed))
    return CalendarSnapshot(supports_vtodo=bool(meta["calendar_vtodo"]), changed=changed)


def _fetch(store: CalendarStore, record: CalendarRecord) -> ServerObject:
    current = store.get(record.href)
    if current is None:
        return ServerObject(record.href, None, None)
    return ServerObject(record.href, current.etag, current.ics)
