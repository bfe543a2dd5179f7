"""The calendar objects the resident should see, rendered deterministically.

Per goal: an all-day VEVENT on the promised date ("Due to <mentor>: <title>"), one on the
private target ("Aim: <title>"), and a VTODO due on the promised date where the calendar
takes tasks. UIDs are uuid5 of the resident's address and the goal, so every run, and
every machine, names the same objects the same way. Only DTSTAMP and LAST-MODIFIED vary
between renderings, and `content_hash` ignores them.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Component, Event, Todo

from assistant.core.deadlines import Deadlines, compute_deadlines
from assistant.core.settings import Goal, Settings
from assistant.core.state import ObjectKind

PRODID = "-//mentor-assistant//mentor-assistant 0.1//EN"
MARKER = "X-MENTOR-ASSISTANT"
_NOISE = frozenset({"DTSTAMP", "PRODID", "LAST-MODIFIED", "CREATED", "SEQUENCE"})
_SIGNIFICANT = ("SUMMARY", "DTSTART", "DTEND", "DUE", "STATUS", "RRULE", "RDATE", "EXDATE", "LOCATION")


@dataclass(frozen=True)
class DesiredObject:
    """One calendar object as we want it on the server."""

    uid: str
    kind: ObjectKind
    goal: str
    ics: str
    hash: str
    significant: str
    day: date
    basis: str
    label: str  # for messages: summary and date


def install_namespace(settings: Settings) -> uuid.UUID:
    """The namespace of this resident's UIDs (stable across machines and lost state)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{settings.me.email.lower()}")


def object_uid(settings: Settings, *parts: str) -> str:
    """A deterministic UID for one object."""
    return f"{uuid.uuid5(install_namespace(settings), ':'.join(parts))}@mentor-assistant"


def goal_basis(goal: Goal) -> str:
    """A fingerprint of what the resident wrote for a goal in the settings."""
    fields = [goal.id, goal.title, goal.measure, goal.relevant, goal.owner, str(goal.start), str(goal.estimate),
              str(goal.promised), str(goal.done)]  # fmt: skip
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


def _components(calendar: Component) -> list[Component]:
    return [c for c in calendar.walk() if c.name in ("VEVENT", "VTODO")]


def content_hash(ics: str) -> str:
    """A hash of what an object means, not how a server wrote it.

    Servers reorder properties, refold lines and re-escape values; the hash is taken over
    the parsed components, sorted, without DTSTAMP, PRODID, LAST-MODIFIED, SEQUENCE,
    VTIMEZONEs and other software's X- properties.
    """
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError:
        return hashlib.sha256(ics.encode()).hexdigest()
    return hashlib.sha256("\n".join(_canonical(calendar, 0)).encode()).hexdigest()


def significant_hash(ics: str) -> str:
    """A hash of the properties whose change bumps SEQUENCE (dates, title, status)."""
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError:
        return ""
    parts = []
    for component in _components(calendar):
        for name in _SIGNIFICANT:
            value = component.get(name)
            for item in value if isinstance(value, list) else [] if value is None else [value]:
                parts.append(f"{name}={item.to_ical().decode() if hasattr(item, 'to_ical') else item}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _canonical(component: Component, depth: int) -> list[str]:
    if component.name == "VTIMEZONE":
        return []
    props = []
    for name, value in component.items():
        if name in _NOISE or (name.startswith("X-") and name != MARKER):
            continue
        values = value if isinstance(value, list) else [value]
        rendered = sorted(v.to_ical().decode() if hasattr(v, "to_ical") else str(v) for v in values)
        props.append(f"{name}={'|'.join(rendered)}")
    lines = [f"{depth}:{component.name}:{';'.join(sorted(props))}"]
    children = [_canonical(sub, depth + 1) for sub in component.subcomponents]
    for child in sorted(children):
        lines.extend(child)
    return lines


def with_sequence(ics: str, sequence: int, now: datetime) -> str:
    """The object with its SEQUENCE and LAST-MODIFIED set for this write."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    ics = re.sub(r"(?m)^SEQUENCE:\d+\r$", f"SEQUENCE:{sequence}\r", ics)
    return re.sub(r"(?m)^LAST-MODIFIED:[0-9TZ]+\r$", f"LAST-MODIFIED:{stamp}\r", ics)


def promised_to(settings: Settings, goal: Goal) -> str:
    """Who a goal's deadline is promised to: its mentor, the only contract's, or the only mentor."""
    mentor = settings.goal_mentor(goal)
    return mentor.name if mentor and mentor.name else "your mentor"


def new_calendar() -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    return cal


def stamp(component: Component, uid: str, now: datetime) -> None:
    """UID, DTSTAMP, LAST-MODIFIED and SEQUENCE (set per write by `with_sequence`)."""
    component.add("uid", uid)
    component.add("dtstamp", now.astimezone(UTC).replace(microsecond=0))
    component.add("last-modified", now.astimezone(UTC).replace(microsecond=0))
    component.add("sequence", 0)


def display_alarm(text: str, before: timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", -before)
    return alarm


def day_before_at_nine(day: date, tz: ZoneInfo) -> datetime:
    """09:00 local time the day before `day`, in UTC: an absolute alarm, which calendar apps
    show as "the day before at 09:00" (a relative one on an all-day event reads "15 hours before")."""
    return datetime.combine(day - timedelta(days=1), time(9, 0), tzinfo=tz).astimezone(UTC)


def at_time_alarm(text: str, when: datetime) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", when)
    return alarm


def _all_day(
    uid: str, summary: str, day: date, description: str, marker: str, now: datetime, tz: ZoneInfo, *, remind: bool
) -> str:
    cal = new_calendar()
    event = Event()
    stamp(event, uid, now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Mentorship"])
    event.add(MARKER, marker)
    if remind:
        event.add_component(at_time_alarm(f"Tomorrow: {summary}", day_before_at_nine(day, tz)))
    cal.add_component(event)
    return str(cal.to_ical().decode())


def _todo(uid: str, goal: Goal, due: date, description: str, marker: str, now: datetime, tz: ZoneInfo) -> str:
    cal = new_calendar()
    todo = Todo()
    stamp(todo, uid, now)
    todo.add("summary", goal.title)
    todo.add("due", due)
    todo.add("dtstart", goal.start)
    todo.add("description", description)
    todo.add("categories", ["Mentorship"])
    todo.add("priority", 1 if goal.owner in ("me", "") else 5)
    if goal.done:
        todo.add("status", "COMPLETED")
        # Noon local time: the day it was done stays that day in every time zone's reading.
        todo.add("completed", datetime.combine(goal.done, time(12, 0), tzinfo=tz).astimezone(UTC))
        todo.add("percent-complete", 100)
    else:
        todo.add("status", "NEEDS-ACTION")
        todo.add_component(at_time_alarm(f"Tomorrow is your aim: {goal.title}", day_before_at_nine(due, tz)))
    todo.add(MARKER, marker)
    cal.add_component(todo)
    return str(cal.to_ical().decode())


def _fmt(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def goal_dates(settings: Settings, goal: Goal) -> Deadlines | None:
    """Target and promised dates of a goal, or None without an estimate."""
    if goal.estimate is None:
        return None
    return compute_deadlines(goal.start, goal.estimate, settings.padding, promised=goal.promised)


def goal_objects(
    settings: Settings, goal: Goal, *, now: datetime, vtodo: bool, basis: str | None = None
) -> list[DesiredObject]:
    """The objects of one goal: two all-day events, and a task where tasks are taken."""
    dates = goal_dates(settings, goal)
    if dates is None:
        return []
    # A done goal keeps its entries, ticked and without reminders; when it was done is in the text.
    done = "✓ " if goal.done else ""
    measure = f"Measure: {goal.measure}\n" if goal.measure else ""
    if goal.done:
        measure = f"Done {goal.done:%a %b} {goal.done.day}.\n{measure}"
    who = promised_to(settings, goal)
    basis = basis or goal_basis(goal)
    # Short titles, the words that tell entries apart first (month views cut them short).
    specs = [
        (ObjectKind.DUE, f"{done}Due: {goal.title}", dates.promised,
         f"{measure}Promised to {who}. Your own target is {_fmt(dates.target)}."),
        (ObjectKind.AIM, f"{done}Aim: {goal.title}", dates.target,
         f"{measure}Your private target. Promised to {who} for {_fmt(dates.promised)}."),
    ]  # fmt: skip
    tz = settings.tz
    out = []
    for kind, summary, day, desc in specs:
        uid = object_uid(settings, "goal", goal.id, kind)
        ics = _all_day(uid, summary, day, desc, f"goal:{goal.id}:{kind}", now, tz, remind=goal.done is None)
        out.append(_desired(uid, kind, goal.id, ics, day, basis, f"{summary} ({_fmt(day)})"))
    if vtodo:
        # The task is due on your own aim: a task app shows it late from then on, not only
        # once the promise to your mentor is broken.
        uid = object_uid(settings, "goal", goal.id, "todo")
        desc = f"{measure}Your aim: {_fmt(dates.target)}. Promised to {who} for {_fmt(dates.promised)}."
        ics = _todo(uid, goal, dates.target, desc, f"goal:{goal.id}:todo", now, tz)
        out.append(_desired(uid, ObjectKind.TODO, goal.id, ics, dates.target, basis, f"task {goal.title}"))
    return out


def _desired(uid: str, kind: ObjectKind, goal: str, ics: str, day: date, basis: str, label: str) -> DesiredObject:
    return DesiredObject(uid, kind, goal, ics, content_hash(ics), significant_hash(ics), day, basis, label)


def desired_objects(
    settings: Settings, *, now: datetime, vtodo: bool = True, bases: dict[str, str] | None = None
) -> dict[str, DesiredObject]:
    """Every object the calendar should hold, by UID. `bases`: each goal's fingerprint as
    configured, when `settings` carries goals as changed by the calendar app."""
    from assistant.core.contract_calendar import contract_objects  # it builds on this module

    objects: dict[str, DesiredObject] = {}
    for goal in settings.goals:
        for obj in goal_objects(settings, goal, now=now, vtodo=vtodo, basis=(bases or {}).get(goal.id)):
            objects[obj.uid] = obj
    for obj in contract_objects(settings, now=now):
        objects[obj.uid] = obj
    return objects
