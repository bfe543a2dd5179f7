"""A contract in time: its check-in dates, the agenda of each, the review.

Check-ins fall every `every` on `weekday` at `time` (local), from `start` until the day
before `review`, or until the day the contract `ended`. A renewed contract goes on: with
the same cadence the series simply continues; with a new one (`renew --every`), the new
cadence starts on the first `weekday` on or after the earlier review (or the renewal,
when it came after the review: no check-ins fall in between). The agenda of a
check-in lists who is doing what by when, for that relationship's goals only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.core.deadlines import compute_deadlines
from assistant.core.settings import WEEKDAYS, Contract, Goal, Settings


@dataclass(frozen=True)
class Run:
    """Check-in days at one cadence, without a gap: how a calendar RRULE can say them."""

    first: date
    every: timedelta
    days: tuple[date, ...]


def on_or_after(day: date, weekday: str) -> date:
    """The first `weekday` on or after `day`."""
    return day + timedelta(days=(WEEKDAYS.index(weekday) - day.weekday()) % 7)


def first_checkin(contract: Contract) -> date:
    """The first `weekday` on or after the contract's start."""
    return on_or_after(contract.start, contract.weekday)


def runs(contract: Contract) -> list[Run]:
    """The check-in days, grouped in runs a recurrence rule can say (one unless a renewal
    changed `every`, or came after the review date and so left a gap)."""
    periods = [(p.review, p.every, p.renewed) for p in contract.previous] + [(contract.review, contract.every, None)]
    last = contract.last_day
    out: list[Run] = []
    day = first_checkin(contract)
    begins = contract.start
    for until, every, renewed in periods:
        if out:
            if every != out[-1].every:
                day = on_or_after(begins, contract.weekday)
            while day < begins:  # no check-ins between a review and a late renewal
                day += every
        days = []
        while day < until and day <= last:
            days.append(day)
            day += every
        begins = max(until, renewed) if renewed else until
        if days and out and out[-1].every == every and days[0] == out[-1].days[-1] + every:
            out[-1] = replace(out[-1], days=out[-1].days + tuple(days))
        elif days:
            out.append(Run(days[0], every, tuple(days)))
    return out


def occurrences(contract: Contract, tz_name: str) -> list[datetime]:
    """Every check-in, in local time (so 16:00 stays 16:00 across daylight-saving changes)."""
    tz = ZoneInfo(tz_name)
    return [datetime.combine(day, contract.time, tzinfo=tz) for run in runs(contract) for day in run.days]


def next_checkin_of(settings: Settings, contract: Contract, *, now: datetime) -> datetime | None:
    """The contract's first check-in that has not ended yet."""
    return next((t for t in occurrences(contract, settings.me.timezone) if t + contract.duration > now), None)


def next_checkins(settings: Settings, *, now: datetime) -> list[tuple[Contract, datetime]]:
    """The next check-in of each contract, soonest first."""
    found = [(c, next_checkin_of(settings, c, now=now)) for c in settings.contracts]
    return sorted(((c, t) for c, t in found if t is not None), key=lambda pair: pair[1])


def held(settings: Settings, contract: Contract, *, now: datetime) -> list[datetime]:
    """The check-ins already past (as scheduled in the calendar)."""
    return [t for t in occurrences(contract, settings.me.timezone) if t + contract.duration <= now]


def up_for_review(settings: Settings, contract: Contract, *, now: datetime) -> bool:
    """Whether the contract's review date has come, and no end was decided."""
    return now.astimezone(settings.tz).date() >= contract.review and contract.ended is None


def _owner(goal: Goal, settings: Settings) -> str:
    if goal.owner in ("me", "", settings.me.email):
        return "you"
    mentor = settings.mentor_for(goal.owner) if "@" in goal.owner else None
    return mentor.name if mentor else goal.owner


def _fmt(day: date) -> str:
    return f"{day:%a %b} {day.day}"


def agenda(settings: Settings, contract: Contract, *, start: datetime) -> list[str]:
    """The agenda of the check-in at `start`: who is doing what by when, in this relationship."""
    every = contract.every
    day = start.astimezone(settings.tz).date()
    previous, following = day - every, day + every
    done, overdue, due, rest = [], [], [], []
    for goal in settings.goals_of(contract):
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
    items = [*done, *overdue, *due, *rest]
    if items:
        return items
    if settings.goals_of(contract):
        return ["No open goals: agree on the next one."]
    return ["No goals yet: agree on the first one."]


def with_goals(settings: Settings, goals: tuple[Goal, ...]) -> Settings:
    """The settings with goals as read back from the calendar."""
    return replace(settings, goals=goals)
