"""The track record: how the resident delivers against their own target and their promise.

The guide's advice is to promise with padding and deliver early. For every goal done:
was it done by the private target, by the promised date, or late, and by how many days
before the promise. When the resident keeps missing their own targets, the history
suggests a padding factor that would have covered most of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.core.deadlines import compute_deadlines, estimate_days
from assistant.core.settings import Goal, Padding

# Enough history to suggest anything, and the share of goals a suggested factor should cover.
MIN_HISTORY = 3
COVER = 0.8


@dataclass(frozen=True)
class Delivery:
    """One goal done: its dates and the margin before the promise (negative: late)."""

    goal: str
    target: date
    promised: date
    done: date

    @property
    def margin(self) -> int:
        return (self.promised - self.done).days


@dataclass(frozen=True)
class TrackRecord:
    """The `track_record` of `status --json`, and a padding suggestion when one helps."""

    done: int
    by_target: int
    by_promised: int
    late: int
    average_days_before_promised: float | None
    suggested_factor: float | None = None
    suggestion: str = ""

    def as_json(self) -> dict[str, Any]:
        """The document's form (the names are a contract)."""
        return {
            "done": self.done,
            "by_target": self.by_target,
            "by_promised": self.by_promised,
            "late": self.late,
            "average_days_before_promised": self.average_days_before_promised,
            "suggested_factor": self.suggested_factor,
            "suggestion": self.suggestion,
            "sentence": self.sentence(),
        }

    def sentence(self, *, mine: bool = False) -> str:
        """'4 of 5 goals delivered by the promised date, on average 5.5 days early; 2 by your own target.'
        `mine`: as the resident says it to their mentor ("my own target")."""
        if not self.done:
            return "No goal done yet: the track record starts with the first."
        average = self.average_days_before_promised or 0.0
        days = f"{abs(average):g} day{'' if abs(average) == 1 else 's'}"
        lead = "on the promised day" if average == 0 else f"{days} {'early' if average > 0 else 'late'}"
        goals = "goal" if self.done == 1 else "goals"
        whose = "my" if mine else "your"
        return (
            f"{self.by_promised} of {self.done} {goals} delivered by the promised date, on average {lead}; "
            f"{self.by_target} by {whose} own target."
        )


def deliveries(goals: Iterable[Goal], padding: Padding) -> list[Delivery]:
    """The goals done, with their dates (goals without an estimate have no target to measure)."""
    out = []
    for goal in goals:
        if goal.done is None or goal.estimate is None:
            continue
        dates = compute_deadlines(goal.start, goal.estimate, padding, promised=goal.promised)
        out.append(Delivery(goal.id, dates.target, dates.promised, goal.done))
    return out


def track_record(goals: Iterable[Goal], padding: Padding, *, me: frozenset[str] = frozenset()) -> TrackRecord:
    """The record of the resident's own goals done (by their done date, as set or read back from the
    task app); goals the mentor owns are theirs to keep, not the resident's record."""
    goals = [g for g in goals if g.owner.lower() in ("me", "") or g.owner.lower() in me]
    done = deliveries(goals, padding)
    if not done:
        return TrackRecord(0, 0, 0, 0, None)
    by_target = sum(1 for d in done if d.done <= d.target)
    by_promised = sum(1 for d in done if d.done <= d.promised)
    average = round(sum(d.margin for d in done) / len(done), 1)
    factor, suggestion = _suggest(goals, done, padding, by_target)
    return TrackRecord(len(done), by_target, by_promised, len(done) - by_promised, average, factor, suggestion)


def _suggest(goals: list[Goal], done: list[Delivery], padding: Padding, by_target: int) -> tuple[float | None, str]:
    """A factor that would have covered most of the history, when the own targets keep slipping."""
    if len(done) < MIN_HISTORY or by_target * 2 > len(done):
        return None, ""
    by_id = {g.id: g for g in goals}
    ratios = []
    for d in done:
        goal = by_id[d.goal]
        assert goal.estimate is not None
        ratios.append(max(1, (d.done - goal.start).days) / max(1, estimate_days(goal.estimate)))
    ratios.sort()
    needed = ratios[min(len(ratios) - 1, math.ceil(COVER * len(ratios)) - 1)]
    factor = min(4.0, math.ceil(needed * 4 - 1e-9) / 4)
    covered = sum(1 for r in ratios if r <= factor)
    if factor <= padding.factor or covered < COVER * len(ratios):
        return None, ""  # no factor up to 4 would have covered enough: padding is not the answer
    return factor, (
        f"You met your own target for {by_target} of {len(done)} goals. A padding factor of {factor:g} "
        f"(now {padding.factor:g}) would have covered {covered} of them: set [padding] factor = {factor:g}."
    )
