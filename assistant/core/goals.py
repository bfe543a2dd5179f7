"""SMART goals: what makes a goal specific, measurable, achievable, relevant and time-bound."""

from __future__ import annotations

from datetime import timedelta

from assistant.core.deadlines import compute_deadlines
from assistant.core.durations import add_workdays
from assistant.core.settings import Goal, Settings


def lint_goal(goal: Goal, settings: Settings) -> list[str]:
    """What keeps a goal from being SMART, each with the key that would fix it."""
    problems = []
    if len(goal.title.split()) < 2:
        problems.append("title: say specifically what you will produce (a few words, not one)")
    if not goal.measure.strip():
        problems.append("measure: how will you and your mentor know it is done?")
    if goal.estimate is None:
        problems.append("estimate: give your honest estimate, like 2w, so a deadline can be set")
    elif goal.estimate <= timedelta(0):
        problems.append("estimate: an estimate of zero leaves no time to do it")
    if not goal.relevant.strip():
        problems.append("relevant: say what it serves (a project, your career goal)")
    if not goal.owner.strip():
        problems.append("owner: who is doing it?")
    if goal.estimate is not None and goal.estimate > timedelta(0):
        dates = compute_deadlines(goal.start, goal.estimate, settings.padding)
        floor = add_workdays(dates.target, 1) if settings.padding.workdays_only else dates.target + timedelta(days=1)
        if goal.promised is not None and goal.promised < floor:
            problems.append(
                f"promised: {goal.promised} is before your own target plus a workday ({floor}); "
                "promise later or estimate less"
            )
    if goal.done is not None and goal.done < goal.start:
        problems.append(f"done: {goal.done} is before the goal's start ({goal.start})")
    return problems
