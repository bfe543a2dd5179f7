"""The calendar objects the resident should see, rendered deterministically.

Per goal: an all-day VEVENT on the promised date ("Due to <mentor>: <title>") and one on
the private target ("Aim: <title>"). UIDs are uuid5 of the resident's address and the
goal, so every run, and every machine, names the same objects the same way. Only DTSTAMP
varies between renderings, and `content_hash` ignores it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Component, Event

from assistant.config import Config, Goal
from assistant.core.deadlines import compute_deadlines

PRODID = "-//mentor-assistant//mentor-assistant 0.1//EN"
MARKER = "X-MENTOR-ASSISTANT"
_NOISE = frozenset({"DTSTAMP", "PRODID", "LAST-MODIFIED", "CREATED", "SEQUENCE"})


@dataclass(frozen=True)
class DesiredObject:
    """One calendar object as we want it on the server."""

    uid: str
    ics: str
    hash: str
    summary: str
    goal: str


def install_namespace(config: Config) -> uuid.UUID:
    """The namespace of this resident's UIDs."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mailto:{config.me.email.lower()}")


def object_uid(config: Config, *parts: str) -> str:
    """A deterministic UID for one object."""
    return f"{uuid.uuid5(install_namespace(config), ':'.join(parts))}@mentor-assistant"


def content_hash(ics: str) -> str:
    """A hash of what an object means, not how a server wrote it.

    Servers reorder properties, refold lines and re-escape values; the hash is taken over
    the parsed components, sorted, without DTSTAMP, PRODID, LAST-MODIFIED, VTIMEZONEs and
    other software's X- properties.
    """
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError:
        return hashlib.sha256(ics.encode()).hexdigest()
    return hashlib.sha256("\n".join(_canonical(calendar, 0)).encode()).hexdigest()


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


def _mentor_name(config: Config) -> str:
    if config.contract:
        mentor = config.mentor_for(config.contract.mentor)
        if mentor:
            return mentor.name
    if len(config.mentors) == 1:
        return config.mentors[0].name
    return "your mentor"


def _all_day(
    uid: str,
    summary: str,
    day: date,
    description: str,
    marker: str,
    now: datetime,
) -> str:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["Mentorship"])
    event.add(MARKER, marker)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Tomorrow: {summary}")
    alarm.add("trigger", timedelta(hours=-15))  # 09:00 the day before an all-day event
    event.add_component(alarm)
    cal.add_component(event)
    return str(cal.to_ical().decode())


def _fmt(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def goal_objects(config: Config, goal: Goal, *, now: datetime) -> list[DesiredObject]:
    """The two all-day events of one goal."""
    if goal.estimate is None:
        return []
    dates = compute_deadlines(goal.start, goal.estimate, config.padding, promised=goal.promised)
    done = f"Done ({_fmt(goal.done)}): " if goal.done else ""
    measure = f"Measure: {goal.measure}\n" if goal.measure else ""
    who = _mentor_name(config)
    due_summary = f"{done}Due to {who}: {goal.title}"
    aim_summary = f"{done}Aim: {goal.title}"
    due_desc = f"{measure}Promised to {who}. Your own target is {_fmt(dates.target)}."
    aim_desc = f"{measure}Your private target. Promised to {who} for {_fmt(dates.promised)}."
    stamp = now.astimezone(UTC)  # DTSTAMP is always UTC
    out = []
    for kind, summary, day, desc in (
        ("due", due_summary, dates.promised, due_desc),
        ("aim", aim_summary, dates.target, aim_desc),
    ):
        uid = object_uid(config, "goal", goal.id, kind)
        ics = _all_day(uid, summary, day, desc, f"goal:{goal.id}:{kind}", stamp)
        out.append(DesiredObject(uid, ics, content_hash(ics), f"{summary} ({_fmt(day)})", goal.id))
    return out


def desired_objects(config: Config, *, now: datetime) -> dict[str, DesiredObject]:
    """Every object the calendar should hold, by UID."""
    objects: dict[str, DesiredObject] = {}
    for goal in config.goals:
        for obj in goal_objects(config, goal, now=now):
            objects[obj.uid] = obj
    return objects
