"""The `status` view: requests, goals, check-ins and mentors as plain data (the JSON schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from assistant.core.attention import mentor_name, needs_you_now
from assistant.core.checkins import agenda, next_checkins, up_for_review
from assistant.core.deadlines import compute_deadlines
from assistant.core.readback import effective_goals
from assistant.core.review import packet_due
from assistant.core.settings import Settings
from assistant.core.state import GoalOverride, RequestRecord, RequestState
from assistant.core.track_record import track_record


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
        "contracts": _contracts(settings, now=now),
        "track_record": track_record(settings.goals, settings.padding, me=settings.me.addresses).as_json(),
        "tracked_by_hand": [
            {"message_id": m, "found": any(r.message_id == m for r in requests.values())} for m in manual
        ],
    }
    doc["needs_you_now"] = [
        {"kind": a.kind, "about": a.ref, "text": a.text} for a in needs_you_now(settings, ordered, doc, now=now)
    ]
    return doc


def _contracts(settings: Settings, *, now: datetime) -> list[dict[str, Any]]:
    today = now.astimezone(settings.tz).date()
    out = []
    for contract in settings.contracts:
        review = up_for_review(settings, contract, now=now)
        who = settings.mentor_label(contract.mentor)
        if contract.ended_by(today):
            why = f"Ended on {contract.ended}: no more check-ins with {who}."
        elif contract.ended is not None:
            why = f"Ends on {contract.ended}, as you decided: check-ins with {who} until then."
        elif review:
            why = (
                f"The review date {contract.review} has come: go back to the contract with {who}, re-evaluate the "
                "goals, then end it (`contract end`) or redefine it (`contract renew`)."
            )
        elif packet_due(settings, contract, now=now):
            why = f"The review with {who} is on {contract.review}: `contract review` prints the packet."
        else:
            why = f"Check-ins with {who} run until the review on {contract.review}."
        out.append(
            {
                "mentor": contract.mentor,
                "name": who,
                "start": contract.start.isoformat(),
                "review": contract.review.isoformat(),
                "ended": contract.ended.isoformat() if contract.ended else None,
                "version": contract.version,
                "up_for_review": review,
                "packet_due": packet_due(settings, contract, now=now),
                "why": why,
            }
        )
    return out


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
    """The next check-in of each relationship, soonest first."""
    return [
        {
            "start": start.isoformat(timespec="seconds"),
            "mentor": contract.mentor,
            "mentor_name": settings.mentor_label(contract.mentor),
            "agenda": agenda(settings, contract, start=start),
        }
        for contract, start in next_checkins(settings, now=now)
    ]


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
        contract = settings.contract_of(mentor.email)
        if contract is not None:
            stage = "contract"
            if contract.ended_by(today):
                stage = "alumni"
            elif today >= contract.review:
                stage = "review"
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
