"""What needs the resident now: the first lines of `status` and of the digest.

Only things the resident must act on: a draft waiting in Drafts, a recent bounce, a goal
past its promised date or whose aim is near, a review within a week (its packet is ready)
or past, a check-in in the next two days, a message tracked by hand that is not in Sent.
Everything else waits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from assistant.core.settings import Settings
from assistant.core.state import RequestRecord
from assistant.core.state import RequestState as S

# A bounce stays in front of the resident this long after the message that bounced.
BOUNCE_SHOWN = timedelta(days=14)
GOAL_SOON = timedelta(days=7)
CHECKIN_SOON = timedelta(days=2)


@dataclass(frozen=True)
class Attention:
    """One thing to do: its kind ("draft", "bounce", "goal", ...), what it is about, and the sentence."""

    kind: str
    ref: str
    text: str


def needs_you_now(
    settings: Settings, records: Iterable[RequestRecord], status: dict[str, Any], *, now: datetime
) -> list[Attention]:
    """One sentence per thing to do, most urgent kinds first (drafts, bounces, goals, contract, check-in)."""
    today = now.astimezone(settings.tz).date()
    out: list[Attention] = []
    for r in sorted(records, key=lambda r: (r.sent_at, r.id)):
        who = mentor_name(settings, r.mentor)
        if r.state == S.DRAFTED and r.draft is not None:
            text = f"A follow-up to {who} about “{r.subject}” is waiting in Drafts: review and send it."
            out.append(Attention("draft", r.id, text))
        elif r.state == S.BOUNCED and now - r.last_sent_at <= BOUNCE_SHOWN:
            text = f"Your message to {who} about “{r.subject}” bounced: check the address."
            out.append(Attention("bounce", r.id, text))
    for item in status.get("tracked_by_hand", []):
        if not item["found"]:
            text = f"Tracked by hand, not found in Sent yet: {item['message_id']}."
            out.append(Attention("tracked", item["message_id"], text))
    for g in status.get("goals", []):
        if g["status"] == "done":
            continue
        target, promised = date.fromisoformat(g["target"]), date.fromisoformat(g["deadline"])
        if promised < today:
            out.append(Attention("goal", g["id"], f"Overdue: {g['title']} (promised {day_text(promised)})."))
        elif target <= today + GOAL_SOON:
            text = f"{g['title']}: your aim is {day_text(target)} (promised {day_text(promised)})."
            out.append(Attention("goal", g["id"], text))
    for contract in status.get("contracts", []):
        if contract["up_for_review"] or contract["packet_due"]:
            out.append(Attention("contract", contract["mentor"], contract["why"]))
    for c in status.get("checkins", []):
        start = datetime.fromisoformat(c["start"])
        if start - now <= CHECKIN_SOON:
            local = start.astimezone(settings.tz)
            who = mentor_name(settings, c["mentor"])
            text = f"Check-in with {who} {day_text(local.date())} at {local:%H:%M}: the agenda is below."
            out.append(Attention("checkin", c["start"], text))
    return out


def mentor_name(settings: Settings, address: str) -> str:
    """The mentor's name from the config, else the address."""
    mentor = settings.mentor_for(address)
    return mentor.name if mentor and mentor.name else address


def day_text(day: date) -> str:
    """'Thu Dec 3': short, unambiguous within a few months, never split across lines."""
    return f"{day:%a %b} {day.day}"
