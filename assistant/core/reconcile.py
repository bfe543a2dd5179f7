"""The calendar plan: what to create, update or delete so the server matches the goals.

Compares what we want (`DesiredObject`, by UID) with what we last pushed (the status
records). An unchanged hash means no request at all; objects we never created are never
in the records, so they are never touched.
"""

from __future__ import annotations

from assistant.core.calendar import DesiredObject
from assistant.core.model import CalendarRecord
from assistant.core.plan import CalendarAction, DeleteCalendarObject, PutCalendarObject


def reconcile(
    desired: dict[str, DesiredObject], records: dict[str, CalendarRecord]
) -> tuple[tuple[CalendarAction, ...], tuple[CalendarRecord, ...]]:
    """Actions to converge, and the records that stay as they are."""
    actions: list[CalendarAction] = []
    kept: list[CalendarRecord] = []
    for uid, obj in sorted(desired.items()):
        record = records.get(uid)
        if record is None:
            actions.append(PutCalendarObject(uid, "", obj.ics, obj.hash, None, obj.summary, obj.goal))
        elif record.hash != obj.hash:
            actions.append(PutCalendarObject(uid, record.href, obj.ics, obj.hash, record.etag, obj.summary, obj.goal))
        else:
            kept.append(record)
    for uid, record in sorted(records.items()):
        if uid not in desired:
            actions.append(DeleteCalendarObject(uid, record.href, record.etag, record.goal or uid))
    return tuple(actions), tuple(kept)
