"""The `status` view: requests, goals, check-ins and mentors as plain data (the JSON schema)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from assistant.config import Config
from assistant.core.checkins import agenda, next_checkin, up_for_review
from assistant.core.deadlines import compute_deadlines
from assistant.core.model import REPLIED, GoalOverride, RequestRecord
from assistant.core.readback import effective_goals


def build_status(
    config: Config,
    requests: dict[str, RequestRecord],
    *,
    now: datetime,
    overrides: dict[str, GoalOverride] | None = None,
) -> dict[str, Any]:
    """The `status --json` document. `overrides`: what the calendar app changed, adopted."""
    ordered = sorted(requests.values(), key=lambda r: (r.sent_at, r.id))
    goals, kept = effective_goals(config.goals, overrides or {})
    config = replace(config, goals=goals)
    return {
        "requests": [
            {
                "id": r.id,
                "message_id": r.message_id,
                "mentor": r.mentor,
                "subject": r.subject,
                "sent_at": r.sent_at,
                "state": r.state,
                "round": r.round,
                "next_action_at": r.next_action_at,
                "why": r.why,
            }
            for r in ordered
        ],
        "goals": _goals(config, kept, now=now),
        "checkins": _checkins(config, now=now),
        "mentors": _mentors(config, ordered, now=now),
        "contract": _contract(config, now=now),
    }


def _contract(config: Config, *, now: datetime) -> dict[str, Any] | None:
    contract = config.contract
    if contract is None:
        return None
    review = up_for_review(config, now=now)
    return {
        "mentor": contract.mentor,
        "start": contract.start.isoformat(),
        "review": contract.review.isoformat(),
        "up_for_review": review,
        "why": (
            f"The review date {contract.review} has come: go back to the contract, re-evaluate the goals, "
            "then end or redefine the relationship."
            if review
            else f"Check-ins run until the review on {contract.review}."
        ),
    }


def _goals(config: Config, overrides: dict[str, GoalOverride], *, now: datetime) -> list[dict[str, Any]]:
    today = now.astimezone(config.tz).date()
    out = []
    for goal in config.goals:
        if goal.estimate is None:
            continue
        dates = compute_deadlines(goal.start, goal.estimate, config.padding, promised=goal.promised)
        override = overrides.get(goal.id)
        notes = []
        if override and override.promised:
            notes.append(f"deadline moved in your calendar from {override.moved_from} to {override.promised}")
        if override and override.done:
            notes.append(f"completed in your task app on {override.done}")
        out.append(
            {
                "note": "; ".join(notes),
                "id": goal.id,
                "title": goal.title,
                "target": dates.target.isoformat(),
                "deadline": dates.promised.isoformat(),
                "status": "done" if goal.done else "open",
                "owner": goal.owner,
                "overdue": goal.done is None and dates.promised < today,
            }
        )
    return out


def _checkins(config: Config, *, now: datetime) -> list[dict[str, Any]]:
    start = next_checkin(config, now=now)
    if start is None:
        return []
    return [{"start": start.isoformat(timespec="seconds"), "agenda": agenda(config, start=start)}]


def _mentors(config: Config, requests: list[RequestRecord], *, now: datetime) -> list[dict[str, Any]]:
    out = []
    today = now.astimezone(config.tz).date()
    for mentor in config.mentors:
        mine = [r for r in requests if config.mentor_for(r.mentor) is mentor]
        stage = "prospect"
        if mine:
            stage = "contacted"
        if any(r.state == REPLIED for r in mine):
            stage = "replied"
        contract = config.contract
        if contract and contract.mentor.lower() in (e.lower() for e in mentor.emails):
            stage = "review" if today >= contract.review else "contract"
        suggested: dict[str, str] = {}
        for r in mine:
            for text in r.suggested:
                name, address = parseaddr(text)
                suggested.setdefault(address.lower(), name)
        contacted = min((r.sent_at for r in mine), default=None)
        replied = min((r.sent_at for r in mine if r.state == REPLIED), default=None)
        out.append(
            {
                "email": mentor.email,
                "name": mentor.name,
                "stage": stage,
                "suggested": list(suggested),
                "suggested_names": list(suggested.values()),
                "contacted_at": contacted,
                "replied": replied is not None,
                "area": mentor.area,
                "recommended_by": mentor.recommended_by,
            }
        )
    return out
