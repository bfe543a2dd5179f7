"""Reading what the core needs from the calendar: which of our objects changed there.

One sync-collection REPORT with the remembered token (a full listing when there is none
or the server refuses it) names what changed; only our own objects whose ETag moved are
fetched. The calendar's URL and whether it takes tasks are remembered, so a cycle with
nothing new costs one request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from assistant.adapters.caldav import CalendarStore, href_path
from assistant.core.model import CalendarSnapshot, ServerObject
from assistant.core.state import CalendarMeta, CalendarRecord

log = logging.getLogger(__name__)

FULL_LISTING_EVERY = timedelta(hours=24)


def read_calendar(
    store: CalendarStore,
    records: Mapping[str, CalendarRecord],
    meta: CalendarMeta,
    *,
    now: datetime,
) -> tuple[CalendarSnapshot, CalendarMeta]:
    """Our objects that changed on the server since the last cycle, and the new sync state."""
    if meta.url != store.url or meta.vtodo is None:
        meta = replace(meta, url=store.url, vtodo=store.supports_vtodo(), sync_token=None)
    token = meta.sync_token
    if meta.full_at is None or meta.full_at < now - FULL_LISTING_EVERY:
        token = None  # now and then a full listing, to catch anything a token missed
        meta = replace(meta, full_at=now)
    changes = store.changes(token)
    if changes.token:
        meta = replace(meta, sync_token=changes.token)
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
    return CalendarSnapshot(supports_vtodo=bool(meta.vtodo), changed=changed), meta


def advance_token(store: CalendarStore, records: Mapping[str, CalendarRecord], meta: CalendarMeta) -> CalendarMeta:
    """After our own writes: move the sync token past them, unless something else changed too.

    A server need not report an object that was created and deleted between two tokens;
    without this, an object we created and the resident then deleted could go unnoticed.
    """
    token = meta.sync_token
    if not token:
        return meta
    changes = store.changes(token)
    if changes.full or not changes.token:
        return replace(meta, sync_token=None)
    ours = {href_path(r.href): r.etag for r in records.values() if r.href}
    if all(path in ours and etag is not None and etag == ours[path] for path, etag in changes.objects.items()):
        return replace(meta, sync_token=changes.token)
    return meta  # keep the old token, so the next cycle reads those other changes


def _fetch(store: CalendarStore, record: CalendarRecord) -> ServerObject:
    current = store.get(record.href)
    if current is None:
        return ServerObject(record.href, None, None)
    return ServerObject(record.href, current.etag, current.ics)
