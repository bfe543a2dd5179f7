"""The mentorship contract in time: check-in dates, the agenda, the review.

Check-ins are every `every` on `weekday` at `time` (local), from `start` until `review`.
The agenda of a check-in lists who is doing what by when: goals done since the last
check-in, overdue ones, ones due before the following check-in, and the rest.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.core.deadlines import compute_deadlines
from assistant.core.settings import WEEKDAYS, Contract, Goal, Settings


def first_checkin(contract: Contract) -> date:
    """The first `weekday` on or after the contract's start."""
    return contract.start + timedelta(days=(WEEKDAYS.index(contract.weekday) - contract.start.weekday()) % 7)


def occurrences(contract: Contract, tz_name: str) -> list[datetime]:
    """Every check-in, in local time (so 16:00 stays 16:00 across daylight-saving changes)."""
    tz = ZoneInfo(tz_name)
    out = []
    day = first_checkin(contract)
    while day < contract.review:
        out.append(datetime.combine(day, contract.time, tzinfo=tz))
        day += contract.every
    return out


def next_checkin(settings: Settings, *, now: datetime) -> datetime | None:
    """The first check-in that has not ended yet."""
    if settings.contract is None:
        return None
    duration = settings.contract.duration
    return next((t for t in occurrences(settings.contract, settings.me.timezone) if t + duration > now), None)


def up_for_review(settings: Settings, *, now: datetime) -> bool:
    """Whether the contract's review date has come."""
    return settings.contract is not None and now.astimezone(settings.tz).date() >= settings.contract.review


def _owner(goal: Goal, settings: Settings) -> str:
    if goal.owner in ("me", "", settings.me.email):
        return "you"
    mentor = settings.mentor_for(goal.owner) if "@" in goal.owner else None
    return mentor.name if mentor else goal.owner


def _fmt(day: date) -> str:
    return f"{day:%a %b} {day.day}"


def agenda(settings: Settings, *, start: datetime) -> list[str]:
    """The agenda of the check-in at `start`: who is doing what by when."""
    assert settings.contract is not None
    every = settings.contract.every
    day = start.astimezone(settings.tz).date()
    previous, following = day - every, day + every
    done, overdue, due, rest = [], [], [], []
    for goal in settings.goals:
        if goal.estimate is None:
            continue
        promised = compute_deadlines(goal.start, goal.estimate, settings.padding, promised=goal.promised).promised
        who = _owner(goal, settings)
        if goal.done:
            if previous < goal.done <= day:
                done.append(f"Done since the last check-in: {goal.title} ({who}, {_fmt(goal.done)})")
        elif promised < day:
            overdue.append(f"Overdue: {goal.title} ({who}, promised {_fmt(promised)}): what is in the way?")
        elif promised < following:
            due.append(f"Due before the next check-in: {goal.title} ({who}, by {_fmt(promised)})")
        else:
            rest.append(f"Later: {goal.title} ({who}, by {_fmt(promised)})")
    return [*done, *overdue, *due, *rest] or ["No goals yet: agree on the first one."]


def with_goals(settings: Settings, goals: tuple[Goal, ...]) -> Settings:
    """The settings with goals as read back from the calendar."""
    return replace(settings, goals=goals)
