"""The relationship in config.toml: `[[mentors]]`, the contracts and `[[goals]]`.

A contract is `[contract]` (one) or `[[contracts]]` (one table per mentor); each names a
configured mentor; `contract renew` keeps the earlier versions in `previous`. A goal may
name its mentor (an address or a unique part of a name), which this resolves to the
mentor's address.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any

from assistant.config.checker import Checker
from assistant.core.settings import WEEKDAYS, Contract, Goal, Mentor, Period

# Keys read as they are written (text, lists of text), checked by their kind in keys.py.
_MENTOR_TEXT = ("area", "project", "title", "source", "recommended_by", "publications")
_CONTRACT_TEXT = ("location", "my_goals", "my_expectations", "mentor_expectations", "mentor_goals", "outcome")


def parse_mentors(c: Checker, data: dict[str, Any]) -> tuple[Mentor, ...]:
    mentors = []
    seen: dict[str, str] = {}
    for prefix, t in c.array(data, "mentors"):
        emails = c.get(t, "mentors", "email", prefix) or ()
        for e in emails:
            if e.lower() in seen:
                c.add(f"{prefix}.email", f"{e} is already listed under {seen[e.lower()]}")
            seen[e.lower()] = prefix
        mentors.append(
            Mentor(
                name=c.get(t, "mentors", "name", prefix) or "",
                emails=emails or ("unknown@invalid.example",),
                **{key: c.get(t, "mentors", key, prefix) for key in _MENTOR_TEXT},
            )
        )
    return tuple(mentors)


def _mentor_ref(c: Checker, text: str, mentors: tuple[Mentor, ...], where: str) -> str:
    """A mentor named by address or by a unique part of the name, as the mentor's address ("" when empty)."""
    text = text.strip()
    if not text:
        return ""
    found = find_mentors(text, mentors)
    if len(found) == 1:
        return found[0].email
    names = ", ".join(m.name for m in found)
    c.add(where, f"{text!r} matches {names}: write the address" if found else f"{text!r} is not a configured mentor")
    return ""


def find_mentors(text: str, mentors: tuple[Mentor, ...]) -> list[Mentor]:
    """The mentors `text` names: by one of their addresses, else by a part of their name."""
    needle = text.strip().lower()
    exact = [m for m in mentors if needle in (e.lower() for e in m.emails)]
    if exact or "@" in needle:
        return exact
    return [m for m in mentors if needle in m.name.lower()]


def parse_contracts(c: Checker, data: dict[str, Any], mentors: tuple[Mentor, ...]) -> tuple[Contract, ...]:
    """`[contract]` and `[[contracts]]`, at most one per mentor."""
    found: list[tuple[str, Contract]] = []
    single = c.table(data, "contract", required=False)
    if single is not None:
        if data.get("contracts"):
            c.add("contract", "write either one [contract] or [[contracts]] tables, not both")
        found.append(("contract", _contract(c, single, "contract", mentors)))
    for prefix, t in c.array(data, "contracts"):
        found.append((prefix, _contract(c, t, prefix, mentors)))
    seen: dict[str, str] = {}
    for prefix, contract in found:
        mentor = next((m for m in mentors if contract.mentor.lower() in (e.lower() for e in m.emails)), None)
        who = mentor.email.lower() if mentor else contract.mentor.lower()
        if who in seen:
            c.add(f"{prefix}.mentor", f"{contract.mentor} already has a contract ({seen[who]}); renew that one")
        seen[who] = prefix
    # The calendar names its objects after the relationship: the earliest keeps the names a
    # single [contract] always had (so adding a second mentor, or reordering, renames nothing),
    # each other one is named after its mentor as written.
    contracts = [contract for _prefix, contract in found]
    earliest = min(contracts, key=lambda k: (k.start, k.mentor.lower()), default=None)
    return tuple(replace(k, key="" if k is earliest else k.mentor.lower()) for k in contracts)


def _contract(c: Checker, t: dict[str, Any], prefix: str, mentors: tuple[Mentor, ...]) -> Contract:
    mentor = c.get(t, "contract", "mentor", prefix) or ""
    configured = next((m for m in mentors if mentor.lower() in (e.lower() for e in m.emails)), None)
    if mentor and configured is None:
        c.add(f"{prefix}.mentor", f"{mentor} is not the address of a configured [[mentors]] entry")
    start = c.get(t, "contract", "start", prefix)
    review = c.get(t, "contract", "review", prefix)
    if start and review and review <= start:
        c.add(f"{prefix}.review", f"{review} must be after {prefix}.start ({start})")
    every = _every(c, c.get(t, "contract", "every", prefix), f"{prefix}.every")
    weekday = str(c.get(t, "contract", "weekday", prefix)).lower()
    if weekday not in WEEKDAYS:
        c.add(f"{prefix}.weekday", f"must be a day name like tuesday, not {weekday!r}")
        weekday = "tuesday"
    ended = c.get(t, "contract", "ended", prefix)
    if ended and start and ended < start:
        c.add(f"{prefix}.ended", f"{ended} is before {prefix}.start ({start})")
    version = c.get(t, "contract", "version", prefix)
    previous = _previous(c, t, prefix, start, review, every)
    if previous and version <= previous[-1].version:
        c.add(f"{prefix}.version", f"must be after the last of {prefix}.previous ({previous[-1].version})")
    return Contract(
        mentor=mentor,
        start=start or date(2000, 1, 1),
        every=every,
        weekday=weekday,
        time=c.get(t, "contract", "time", prefix) or time(16, 0),
        duration=c.get(t, "contract", "duration", prefix),
        review=review or date(2000, 1, 2),
        **{key: c.get(t, "contract", key, prefix) for key in _CONTRACT_TEXT},
        version=version,
        ended=ended,
        previous=previous,
    )


def _every(c: Checker, every: timedelta, where: str) -> timedelta:
    if not timedelta(days=7) <= every <= timedelta(weeks=26) or every.days % 7 or every % timedelta(days=1):
        c.add(where, "must be whole weeks between 1w and 26w, like 4w")
        return timedelta(weeks=4)
    return every


def _previous(
    c: Checker, t: dict[str, Any], prefix: str, start: date | None, review: date | None, every: timedelta
) -> tuple[Period, ...]:
    out: list[Period] = []
    for where, p in c.array(t, "previous", prefix):
        day = c.get(p, "previous", "review", where)
        version = c.get(p, "previous", "version", where) or 0
        cadence = c.get(p, "previous", "every", where)
        cadence = _every(c, cadence, f"{where}.every") if cadence is not None else every
        if day is None:
            continue
        if (out and day <= out[-1].review) or (start and day <= start) or (review and day >= review):
            c.add(f"{where}.review", f"{day} must fall between the start, the earlier reviews and the review")
        out.append(Period(version=version, review=day, every=cadence, renewed=c.get(p, "previous", "renewed", where)))
    return tuple(out)


def parse_goals(c: Checker, data: dict[str, Any], mentors: tuple[Mentor, ...]) -> tuple[Goal, ...]:
    goals = []
    ids: set[str] = set()
    for i, (prefix, t) in enumerate(c.array(data, "goals")):
        gid = c.get(t, "goals", "id", prefix) or f"goal-{i}"
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", gid):
            c.add(f"{prefix}.id", f"{gid!r} must be letters, digits, '-', '_' or '.'")
        if gid in ids:
            c.add(f"{prefix}.id", f"{gid!r} is used by another goal")
        ids.add(gid)
        goals.append(
            Goal(
                id=gid,
                title=c.get(t, "goals", "title", prefix) or gid,
                start=c.get(t, "goals", "start", prefix) or date(2000, 1, 1),
                estimate=c.get(t, "goals", "estimate", prefix),
                measure=c.get(t, "goals", "measure", prefix),
                relevant=c.get(t, "goals", "relevant", prefix),
                owner=c.get(t, "goals", "owner", prefix),
                promised=c.get(t, "goals", "promised", prefix),
                done=c.get(t, "goals", "done", prefix),
                mentor=_mentor_ref(c, c.get(t, "goals", "mentor", prefix), mentors, f"{prefix}.mentor"),
            )
        )
    return tuple(goals)


def check_goals_belong(c: Checker, goals: tuple[Goal, ...], contracts: tuple[Contract, ...]) -> None:
    """With several contracts, every goal names its mentor: else it would be on no agenda."""
    if len(contracts) < 2:
        return
    for i, goal in enumerate(goals):
        if not goal.mentor:
            c.add(
                f"goals[{i}].mentor",
                f"with several contracts, name whose goal {goal.id!r} is (a mentor's address or a unique part "
                "of the name)",
            )
