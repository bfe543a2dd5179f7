"""Padded deadlines: the private target and the promised date agreed with the mentor.

target   = start + estimate, moved back to a workday when `workdays_only`;
promised = start + (estimate x factor, rounded up to whole `round_to` units), moved
           forward to a workday, and at least one workday after the target.
A `promised` date written in the goal overrides the computed one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.core.durations import add_workdays, next_workday, previous_workday
from assistant.core.settings import Padding


@dataclass(frozen=True)
class Deadlines:
    """A goal's two dates: what the resident aims for and what they promise."""

    target: date
    promised: date
    computed_promised: date


def estimate_days(estimate: timedelta) -> int:
    """An estimate in whole days, rounding part days up (a "4h" task takes a day)."""
    return max(0, math.ceil(estimate / timedelta(days=1)))


def compute_deadlines(start: date, estimate: timedelta, padding: Padding, *, promised: date | None = None) -> Deadlines:
    """Target and promised dates for a goal, per the padding rules."""
    days = estimate_days(estimate)
    target = start + timedelta(days=days)
    if padding.workdays_only:
        target = previous_workday(target)
        if target < start:
            target = next_workday(start)
    unit = 7 if padding.round_to == "week" else 1
    padded_days = math.ceil(days * padding.factor / unit - 1e-9) * unit
    computed = start + timedelta(days=padded_days)
    if padding.workdays_only:
        computed = next_workday(computed)
    floor = add_workdays(target, 1) if padding.workdays_only else target + timedelta(days=1)
    computed = max(computed, floor)
    return Deadlines(target=target, promised=promised or computed, computed_promised=computed)
