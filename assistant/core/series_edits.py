"""What the resident did to a check-in series in their calendar app, kept across our rewrites.

The series is rewritten whenever the agenda moves on, the contract is renewed or ends. A
check-in the resident cancelled (an EXDATE on the series, or an instance marked
CANCELLED) or moved (an instance whose start is not its RECURRENCE-ID) must not come
back: those parts are read back into the record and carried into every later rendering.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from icalendar import Calendar, Event

from assistant.core.calendar import DesiredObject, content_hash, significant_hash
from assistant.core.state import CalendarRecord, ObjectKind


def _parse(ics: str) -> Calendar | None:
    try:
        return Calendar.from_ical(ics)
    except ValueError:
        return None


def _moments(prop: Any) -> list[datetime | date]:
    values = prop if isinstance(prop, list) else [prop]
    return [d.dt for value in values for d in getattr(value, "dts", [])]


def residents_edits(ics: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """From the server's series: the cancelled occurrences (ISO) and the resident's own instances (VEVENT text)."""
    calendar = _parse(ics)
    if calendar is None:
        return (), ()
    exdates: list[str] = []
    kept: list[str] = []
    events: list[Any] = list(calendar.walk("VEVENT"))
    for event in events:
        if event.get("recurrence-id") is None:
            if event.get("exdate") is not None:
                exdates.extend(m.isoformat() for m in _moments(event.get("exdate")))
            continue
        start = event.get("dtstart")
        moved = start is not None and start.dt != event["recurrence-id"].dt
        cancelled = str(event.get("status", "")).upper() == "CANCELLED"
        if moved or cancelled:
            kept.append(event.to_ical().decode())
    return tuple(sorted(set(exdates))), tuple(kept)


def read_back_series(record: CalendarRecord, ics: str) -> tuple[CalendarRecord, list[str]]:
    """The record with the resident's edits of the series as the server has them, and a note for new ones."""
    exdates, kept = residents_edits(ics)
    notes = []
    if set(exdates) - set(record.exdates) or set(kept) - set(record.kept):
        notes.append("You changed check-ins in your calendar (cancelled or moved); they stay as you left them.")
    return replace(record, exdates=exdates, kept=kept), notes


def keep_residents_edits(
    desired: dict[str, DesiredObject], records: dict[str, CalendarRecord]
) -> dict[str, DesiredObject]:
    """Each series as we render it, with the resident's cancelled and moved check-ins put back."""
    out = dict(desired)
    for uid, obj in desired.items():
        record = records.get(uid)
        if obj.kind != ObjectKind.CHECKINS or record is None or not (record.exdates or record.kept):
            continue
        calendar = _parse(obj.ics)
        if calendar is None:
            continue
        events: list[Any] = list(calendar.walk("VEVENT"))
        master = next((e for e in events if e.get("recurrence-id") is None), None)
        if master is None:
            continue
        if record.exdates:
            # In the series' own zone (TZID), as calendar apps write them: a bare offset is no TZID.
            zone = getattr(master["dtstart"].dt, "tzinfo", None)
            moments = [datetime.fromisoformat(x) for x in record.exdates]
            master.add("exdate", [m.astimezone(zone) if zone and m.tzinfo else m for m in moments])
        theirs: list[Any] = [Event.from_ical(text) for text in record.kept]
        by_id = {e["recurrence-id"].dt: e for e in theirs}
        for event in events:
            rid = event.get("recurrence-id")
            if rid is not None and rid.dt in by_id:
                # Our agenda on their moved instance: their time, our current agenda.
                by_id[rid.dt]["description"] = event["description"]
                calendar.subcomponents.remove(event)
        for event in theirs:
            calendar.add_component(event)
        ics = calendar.to_ical().decode()
        out[uid] = replace(obj, ics=ics, hash=content_hash(ics), significant=significant_hash(ics))
    return out
