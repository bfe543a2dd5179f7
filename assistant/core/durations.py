"""Durations written with a unit ("30m", "4h", "14d", "2w") and workday arithmetic."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse "14d" into a timedelta; raise ValueError with the accepted forms otherwise."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not a duration; write a number and a unit: 30m, 4h, 14d or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def is_workday(day: date) -> bool:
    """Monday to Friday."""
    return day.weekday() < 5


def next_workday(day: date) -> date:
    """`day` itself when it is a workday, else the following Monday."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def previous_workday(day: date) -> date:
    """`day` itself when it is a workday, else the Friday before."""
    while not is_workday(day):
        day -= timedelta(days=1)
    return day


def add_workdays(day: date, count: int) -> date:
    """The date `count` workdays after `day` (Monday to Friday)."""
    while count > 0:
        day += timedelta(days=1)
        if is_workday(day):
            count -= 1
    return day


def add_wait(start: datetime, wait: timedelta, *, business_days: bool) -> datetime:
    """When a wait that began at `start` has passed.

    With `business_days`, whole days of the wait count Monday to Friday only (the time of
    day is kept); a part-day remainder is added as it is.
    """
    if not business_days:
        return start + wait
    days = wait.days
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if is_workday(moment.date()):
            days -= 1
    return moment + (wait - timedelta(days=wait.days))
