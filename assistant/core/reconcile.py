"""The calendar plan: what to create, update or delete so the server matches the goals.

Compares what we want (`DesiredObject`, by UID) with what we last pushed (the status
records). An unchanged hash means no request at all; objects we never created are never
in the records, so they are never touched; an object the resident deleted is recreated
only once the goal it came from changes. SEQUENCE goes up only when a date, the title or
the status changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from assistant.core.calendar import DesiredObject, with_sequence
from assistant.core.plan import CalendarAction, DeleteCalendarObject, PutCalendarObject
from assistant.core.state import CalendarRecord


def _put(
    obj: DesiredObject, record: CalendarRecord | None, sequence: int, now: datetime, *, create: bool
) -> PutCalendarObject:
    target = CalendarRecord(
        uid=obj.uid,
        href=record.href if record else "",
        etag=None,
        hash=obj.hash,
        goal=obj.goal,
        kind=obj.kind,
        sequence=sequence,
        significant=obj.significant,
        day=obj.day,
        basis=obj.basis,
        exdates=record.exdates if record else (),
        kept=record.kept if record else (),
    )
    href = "" if create else (record.href if record else "")
    etag = None if create or record is None else record.etag
    return PutCalendarObject(obj.uid, href, with_sequence(obj.ics, sequence, now), obj.hash, etag, obj.label, target)


def reconcile(
    desired: dict[str, DesiredObject], records: Mapping[str, CalendarRecord], *, now: datetime
) -> tuple[tuple[CalendarAction, ...], tuple[CalendarRecord, ...]]:
    """Actions to converge, and every record to keep (as it is before the actions)."""
    actions: list[CalendarAction] = []
    kept: list[CalendarRecord] = []
    for uid, obj in sorted(desired.items()):
        record = records.get(uid)
        if record is None:
            actions.append(_put(obj, None, 0, now, create=True))
            continue
        kept.append(record)
        if record.deleted_by_user:
            if record.basis != obj.basis:  # the goal changed since: it is wanted again
                actions.append(_put(obj, record, record.sequence + 1, now, create=True))
        elif record.hash != obj.hash:
            bump = 1 if record.significant != obj.significant else 0
            actions.append(_put(obj, record, record.sequence + bump, now, create=False))
    for uid, record in sorted(records.items()):
        if uid in desired:
            continue
        if record.deleted_by_user:
            continue  # gone on the server and no longer wanted: forget it
        kept.append(record)
        actions.append(DeleteCalendarObject(uid, record.href, record.etag, record.goal or uid))
    return tuple(actions), tuple(kept)


def mark_created(record: CalendarRecord, href: str, etag: str | None) -> CalendarRecord:
    """The record after a successful write."""
    return replace(record, href=href, etag=etag, deleted_by_user=False)
