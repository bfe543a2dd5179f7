"""Check-in dates from the contract, and the agenda for the next one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from assistant.config import WEEKDAYS, Config, Contract
from assistant.core.deadlines import compute_deadlines


def occurrences(contract: Contract, tz_name: str) -> list[datetime]:
    """Every check-in from the first `weekday` on or after `start`, each `every`, until `review`."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(tz_name)
    first = contract.start + timedelta(days=(WEEKDAYS.index(contract.weekday) - contract.start.weekday()) % 7)
    out = []
    day = first
    while day < contract.review:
        out.append(datetime.combine(day, contract.time, tzinfo=tz))
        day += contract.every
    return out


def next_checkin(config: Config, *, now: datetime) -> datetime | None:
    """The first check-in that has not started yet."""
    if config.contract is None:
        return None
    return next((t for t in occurrences(config.contract, config.me.timezone) if t >= now), None)


def agenda(config: Config, *, start: datetime, now: datetime) -> list[str]:
    """Who is doing what by when: goals done lately, due before the following check-in, overdue."""
    assert config.contract is not None
    horizon = (start + config.contract.every).date()
    today = now.astimezone(config.tz).date()
    items: list[str] = []
    for goal in config.goals:
        if goal.estimate is None:
            continue
        due = compute_deadlines(goal.start, goal.estimate, config.padding, promised=goal.promised).promised
        owner = "I" if goal.owner in ("me", config.me.email) else goal.owner
        if goal.done:
            if goal.done >= start.date() - config.contract.every:
                items.append(f"Done: {goal.title} ({_fmt(goal.done)})")
        elif due < today:
            items.append(f"Overdue: {goal.title} ({owner}, was due {_fmt(due)})")
        elif due <= horizon:
            items.append(f"{owner}: {goal.title} by {_fmt(due)}")
    return items


def _fmt(day: date) -> str:
    return f"{day:%b} {day.day}"
