"""The review packet: what happened in one relationship, for the review meeting.

Built from what happened: each goal with its target, promised and delivered dates and the
margin; the goals open or overdue; the check-ins held; what each side expected, what
each wanted, the outcome; the track record; and the guide's questions (what do I want
next, what does my mentor want for me, continue, change, or close). It is due a week
before the review date: from then on it is in the digest and in `status`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from assistant.core.calendar import goal_dates
from assistant.core.checkins import held, occurrences
from assistant.core.contract_calendar import short_name
from assistant.core.contract_doc import compose_letter, contract_context, letter_id
from assistant.core.letters import REVIEW_SUBJECT, Letter
from assistant.core.settings import Contract, Goal, Settings
from assistant.core.templating import sandbox
from assistant.core.track_record import track_record

PACKET_LEAD = timedelta(days=7)
QUESTIONS = (
    "What do I want next: more of the same, a new project, a new role, a change of specialty?",
    "What does my mentor want for me next?",
    "Do we continue as we are, change the agreement (new goals, a new review date), or close it?",
)


def packet_due(settings: Settings, contract: Contract, *, now: datetime) -> bool:
    """Whether the review is at most a week away (or here), and no end was decided."""
    today = now.astimezone(settings.tz).date()
    return contract.review - PACKET_LEAD <= today <= contract.review and contract.ended is None


def _day(value: date) -> str:
    return f"{value:%a %b} {value.day}, {value.year}"


def _margin(days: int) -> str:
    if days == 0:
        return "on the promised day"
    unit = "day" if abs(days) == 1 else "days"
    return f"{days} {unit} early" if days > 0 else f"{-days} {unit} late"


def _goal_row(settings: Settings, goal: Goal, today: date, *, me: str) -> dict[str, Any]:
    dates = goal_dates(settings, goal)
    owner = me if goal.owner.lower() in ("me", "", *settings.me.addresses) else settings.mentor_label(goal.owner)
    row: dict[str, Any] = {"title": goal.title, "owner": owner, "target": "-", "promised": "-", "delivered": "-"}
    if dates is None:
        return {**row, "status": "no dates", "margin": ""}
    row.update(target=_day(dates.target), promised=_day(dates.promised))
    if goal.done:
        whose = "my" if me == "me" else "your"
        own = f"by {whose} own target" if goal.done <= dates.target else f"after {whose} own target"
        margin = f"{_margin((dates.promised - goal.done).days)}, {own}"
        return {**row, "delivered": _day(goal.done), "status": "done", "margin": margin}
    if dates.promised < today:
        return {**row, "status": "overdue", "margin": f"{(today - dates.promised).days} days past the promise"}
    return {**row, "status": "open", "margin": f"{(dates.promised - today).days} days to go"}


def review_context(settings: Settings, contract: Contract, *, now: datetime, mine: bool = True) -> dict[str, Any]:
    """Everything the packet shows, as plain values. `mine`: in the resident's voice (the packet
    goes to the mentor: "me", "my own target"); else addressed to the resident ("you")."""
    today = now.astimezone(settings.tz).date()
    goals = settings.goals_of(contract)
    rows = [_goal_row(settings, g, today, me="me" if mine else "you") for g in goals]
    past = held(settings, contract, now=now)
    planned = occurrences(contract, settings.me.timezone)
    record = track_record(goals, settings.padding, me=settings.me.addresses)
    base = contract_context(settings, contract)
    return {
        **base,
        "today": _day(today),
        "review_day": _day(contract.review),
        "days_to_review": (contract.review - today).days,
        "rows": rows,
        "open": [r for r in rows if r["status"] in ("open", "overdue")],
        "overdue": [r for r in rows if r["status"] == "overdue"],
        "held": [_day(t.date()) for t in past],
        "planned": len(planned),
        "record": record.sentence(mine=mine),
        "suggestion": record.suggestion,
        "questions": list(QUESTIONS),
    }


def render_review(templates: dict[str, str], fmt: str, settings: Settings, contract: Contract, *, now: datetime) -> str:
    """The packet as Markdown (`md`) or HTML (`html`)."""
    env = sandbox(templates, html=fmt == "html")
    return env.get_template(f"review.{fmt}.j2").render(**review_context(settings, contract, now=now))


def packet_lines(settings: Settings, contract: Contract, *, now: datetime) -> list[str]:
    """The packet in a few lines, for the digest and `status`."""
    ctx = review_context(settings, contract, now=now, mine=False)
    lines = [
        f"Review with {short_name(settings, contract)} on {ctx['review_day']}: {ctx['record']}",
        f"Check-ins held: {len(ctx['held'])} of the {ctx['planned']} planned.",
    ]
    lines += [f"Still open: {r['title']} ({r['owner']}, promised {r['promised']}; {r['margin']})." for r in ctx["open"]]
    if ctx["suggestion"]:
        lines.append(ctx["suggestion"])
    lines += [f"Ask yourself: {q}" for q in ctx["questions"]]
    lines.append("The whole packet: mentor-assistant contract review" + _arg(settings, contract))
    return lines


def _arg(settings: Settings, contract: Contract) -> str:
    return f" {contract.mentor}" if len(settings.contracts) > 1 else ""


def review_message_id(settings: Settings, contract: Contract) -> str:
    """The review-meeting draft's Message-ID: one per version of the contract (and its review date)."""
    basis = f"{contract.mentor.lower()}:{contract.start}:{contract.version}:{contract.review}"
    return letter_id(settings, "review", basis)


def review_meeting_letter(
    settings: Settings, contract: Contract, templates: dict[str, str], *, now: datetime
) -> Letter:
    """A draft to the mentor proposing the review meeting, with the packet as its agenda."""
    ctx = review_context(settings, contract, now=now)
    letter = sandbox(templates).get_template("review-meeting.txt.j2").render(**ctx)
    return compose_letter(
        settings, contract, subject=REVIEW_SUBJECT, letter=letter, message_id=review_message_id(settings, contract),
        what=f"the review meeting proposal to {contract.mentor}", now=now,
        attachment_text=render_review(templates, "md", settings, contract, now=now),
        attachment_html=render_review(templates, "html", settings, contract, now=now),
    )  # fmt: skip
