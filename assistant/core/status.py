"""The `status` view: requests, goals, check-ins and mentors as plain data (the JSON schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from assistant.core.attention import mentor_name, needs_you_now
from assistant.core.checkins import agenda, next_checkin, up_for_review
from assistant.core.deadlines import compute_deadlines
from assistant.core.readback import effective_goals
from assistant.core.settings import Settings
from assistant.core.state import GoalOverride, RequestRecord, RequestState


def build_status(
    settings: Settings,
    requests: Mapping[str, RequestRecord],
    *,
    now: datetime,
    overrides: Mapping[str, GoalOverride] | None = None,
    manual: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The `status --json` document. `overrides`: what the calendar app changed, adopted."""
    ordered = sorted(requests.values(), key=lambda r: (r.sent_at, r.id))
    goals, kept = effective_goals(settings.goals, overrides or {})
    settings = replace(settings, goals=goals)
    doc: dict[str, Any] = {
        "requests": [
            {
                "id": r.id,
                "message_id": r.message_id,
                "mentor": r.mentor,
                "mentor_name": mentor_name(settings, r.mentor),
                "subject": r.subject,
                "sent_at": _iso(r.sent_at),
                "state": str(r.state),
                "round": r.round,
                "next_action_at": _iso(r.next_action_at),
                "why": r.why,
            }
            for r in ordered
        ],
        "goals": _goals(settings, kept, now=now),
        "checkins": _checkins(settings, now=now),
        "mentors": _mentors(settings, ordered, now=now),
        "contract": _contract(settings, now=now),
        "tracked_by_hand": [
            {"message_id": m, "found": any(r.message_id == m for r in requests.values())} for m in manual
        ],
    }
    doc["needs_you_now"] = [
        {"kind": a.kind, "about": a.ref, "text": a.text} for a in needs_you_now(settings, ordered, doc, now=now)
    ]
    return doc


def _contract(settings: Settings, *, now: datetime) -> dict[str, Any] | None:
    contract = settings.contract
    if contract is None:
        return None
    review = up_for_review(settings, now=now)
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


def _goals(settings: Settings, overrides: Mapping[str, GoalOverride], *, now: datetime) -> list[dict[str, Any]]:
    today = now.astimezone(settings.tz).date()
    out = []
    for goal in settings.goals:
        if goal.estimate is None:
            continue
        dates = compute_deadlines(goal.start, goal.estimate, settings.padding, promised=goal.promised)
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


def _checkins(settings: Settings, *, now: datetime) -> list[dict[str, Any]]:
    start = next_checkin(settings, now=now)
    if start is None:
        return []
    return [{"start": start.isoformat(timespec="seconds"), "agenda": agenda(settings, start=start)}]


def _mentors(settings: Settings, requests: list[RequestRecord], *, now: datetime) -> list[dict[str, Any]]:
    out = []
    today = now.astimezone(settings.tz).date()
    for mentor in settings.mentors:
        mine = [r for r in requests if settings.mentor_for(r.mentor) is mentor]
        stage = "prospect"
        if mine:
            stage = "contacted"
        if any(r.state == RequestState.REPLIED for r in mine):
            stage = "replied"
        contract = settings.contract
        if contract and contract.mentor.lower() in (e.lower() for e in mentor.emails):
            stage = "review" if today >= contract.review else "contract"
        suggested: dict[str, str] = {}
        for r in mine:
            for text in r.suggested:
                name, address = parseaddr(text)
                suggested.setdefault(address.lower(), name)
        contacted = min((r.sent_at for r in mine), default=None)
        replied = min((r.sent_at for r in mine if r.state == RequestState.REPLIED), default=None)
        out.append(
            {
                "email": mentor.email,
                "name": mentor.name,
                "stage": stage,
                "suggested": list(suggested),
                "suggested_names": list(suggested.values()),
                "contacted_at": _iso(contacted),
                "replied": replied is not None,
                "area": mentor.area,
                "recommended_by": mentor.recommended_by,
            }
        )
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None
