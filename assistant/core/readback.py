"""What the resident changed in their calendar app, adopted as data.

A task completed in a task app (STATUS:COMPLETED, a COMPLETED date or 100%) marks its
goal done; the promised-deadline event moved to another day becomes the new promised
date; an object deleted there is not recreated until the goal itself changes. Other
edits to our objects are left as they are until our own version changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from icalendar import Calendar

from assistant.core.calendar import goal_basis
from assistant.core.model import CalendarSnapshot
from assistant.core.series_edits import read_back_series
from assistant.core.settings import Goal, Settings
from assistant.core.state import CalendarRecord, GoalOverride, ObjectKind


def read_back(
    records: Mapping[str, CalendarRecord],
    snapshot: CalendarSnapshot,
    settings: Settings,
    overrides: Mapping[str, GoalOverride],
    *,
    now: datetime,
) -> tuple[dict[str, CalendarRecord], dict[str, GoalOverride], list[str]]:
    """Fold the server's changes to our objects into the records and the goal overrides."""
    records = dict(records)
    overrides = dict(overrides)
    notes: list[str] = []
    goals = {g.id: g for g in settings.goals}
    for uid, server in snapshot.changed.items():
        record = records.get(uid)
        if record is None:
            continue
        goal = goals.get(record.goal)
        if server.ics is None:
            if not record.deleted_by_user:
                notes.append(
                    f"You deleted {_what(record)} from your calendar; it stays deleted until the goal changes."
                )
            records[uid] = replace(record, deleted_by_user=True, etag=None)
            continue
        records[uid] = replace(record, etag=server.etag, href=server.href)
        if record.kind == ObjectKind.CHECKINS:
            records[uid], said = read_back_series(records[uid], server.ics)
            notes.extend(said)
        if goal is None:
            continue
        current = overrides.get(goal.id)
        if current is None or current.basis != goal_basis(goal):
            current = GoalOverride(goal.id, goal_basis(goal))
        if record.kind == ObjectKind.TODO:
            completed = _completed(server.ics, settings, now=now)
            if completed and not goal.done and current.done is None:
                current = replace(current, done=completed)
                notes.append(f"You completed “{goal.title}” in your task app; it is marked done.")
            elif completed is None and current.done is not None:
                current = replace(current, done=None)
        elif record.kind == ObjectKind.DUE:
            moved = _start_date(server.ics)
            if moved is not None and moved != record.day:
                current = replace(current, promised=moved, moved_from=current.moved_from or record.day)
                notes.append(
                    f"You moved the deadline of “{goal.title}” in your calendar to {moved:%a %b} {moved.day}; "
                    "that is now the promised date."
                )
        if current.done or current.promised:
            overrides[goal.id] = current
    return records, overrides, notes


def effective_goals(
    goals: tuple[Goal, ...], overrides: Mapping[str, GoalOverride]
) -> tuple[tuple[Goal, ...], dict[str, GoalOverride]]:
    """The goals with the calendar's changes applied; overrides older than a settings edit are dropped."""
    out = []
    kept: dict[str, GoalOverride] = {}
    for goal in goals:
        override = overrides.get(goal.id)
        if override is None or override.basis != goal_basis(goal):
            out.append(goal)
            continue
        kept[goal.id] = override
        out.append(
            replace(
                goal,
                done=goal.done or override.done,
                promised=override.promised or goal.promised,
            )
        )
    return tuple(out), kept


def _what(record: CalendarRecord) -> str:
    return {"due": "the deadline of", "aim": "the target of", "todo": "the task of"}.get(record.kind, "an entry of") + (
        f" goal {record.goal}" if record.goal else " the contract"
    )


def _first(ics: str, name: str) -> object | None:
    try:
        calendar = Calendar.from_ical(ics)
    except ValueError:
        return None
    for component in calendar.walk():
        if component.name == name:
            return component
    return None


def _completed(ics: str, settings: Settings, *, now: datetime) -> date | None:
    todo = _first(ics, "VTODO")
    if todo is None:
        return None
    status = str(todo.get("status", "")).upper()  # type: ignore[attr-defined]
    percent = todo.get("percent-complete")  # type: ignore[attr-defined]
    completed = todo.get("completed")  # type: ignore[attr-defined]
    if completed is not None:
        moment = completed.dt
        if isinstance(moment, datetime):
            return (moment if moment.tzinfo else moment.replace(tzinfo=settings.tz)).astimezone(settings.tz).date()
        return moment if isinstance(moment, date) else now.astimezone(settings.tz).date()
    if status == "COMPLETED" or (percent is not None and int(percent) >= 100):
        return now.astimezone(settings.tz).date()
    return None


def _start_date(ics: str) -> date | None:
    event = _first(ics, "VEVENT")
    if event is None or event.get("dtstart") is None:  # type: ignore[attr-defined]
        return None
    start = event.get("dtstart").dt  # type: ignore[attr-defined]
    return start.date() if isinstance(start, datetime) else start if isinstance(start, date) else None
