"""The digest: one short e-mail to the resident, daily or weekly, of what needs them.

Sections: needs you now (drafts waiting, bounces, goals, a review near), waiting on
(mentor, days), answered, goals due this and next week (target and promised), the next
check-in of each relationship, the review packet in brief a week before a review, and
the track record. Plain text with
an HTML alternative. It goes to the resident only, once per period.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from assistant.core.attention import day_text, mentor_name, needs_you_now
from assistant.core.draft import NAMESPACE, POLICY, header_address
from assistant.core.review import packet_due, packet_lines
from assistant.core.settings import Settings
from assistant.core.state import WAITING_STATES, RequestRecord
from assistant.core.state import RequestState as S
from assistant.core.track_record import track_record

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPEC = re.compile(r"^(daily|weekly (mon|tue|wed|thu|fri|sat|sun)\w*) (\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class DigestDue:
    """A digest to send now, for one period ("2026-11-24" or "2026-W48")."""

    period: str
    scheduled: datetime


def digest_due(spec: str, *, last_period: str | None, now: datetime, tz_name: str) -> DigestDue | None:
    """The period whose digest is due at `now`, unless it was already sent."""
    from zoneinfo import ZoneInfo

    match = _SPEC.match(spec.strip().lower())
    if not match:
        return None
    local = now.astimezone(ZoneInfo(tz_name))
    at = local.replace(hour=int(match.group(3)), minute=int(match.group(4)), second=0, microsecond=0)
    if match.group(1) == "daily":
        scheduled, period = at, local.date().isoformat()
    else:
        weekday = _DAYS.index(match.group(2))
        scheduled = at - timedelta(days=(local.weekday() - weekday) % 7)
        year, week, _ = scheduled.date().isocalendar()
        period = f"{year}-W{week:02d}"
    if local < scheduled or period == last_period:
        return None
    return DigestDue(period, scheduled)


def next_digest_at(spec: str, *, last_period: str | None, now: datetime, tz_name: str) -> datetime | None:
    """When the next digest falls due (for the daemon's scheduler and `status`)."""
    for hours in range(0, 24 * 8):
        moment = now + timedelta(hours=hours)
        due = digest_due(spec, last_period=last_period, now=moment, tz_name=tz_name)
        if due is not None:
            return max(due.scheduled, now)
    return None


def _days(since: datetime, now: datetime) -> int:
    return max(0, (now - since).days)


def digest_sections(
    settings: Settings, records: list[RequestRecord], status: dict[str, Any], *, now: datetime
) -> dict[str, list[str]]:
    """The digest's content as plain lines per section (also used for the HTML part)."""
    today = now.astimezone(settings.tz).date()
    this_week_end = today + timedelta(days=6 - today.weekday())
    next_week_end = this_week_end + timedelta(days=7)
    attention = needs_you_now(settings, records, status, now=now)
    needs = [a.text for a in attention]
    mentioned = {a.ref for a in attention if a.kind == "goal"}
    waiting, answered, suggested = [], [], []
    for r in sorted(records, key=lambda r: r.sent_at):
        who = mentor_name(settings, r.mentor)
        if r.state in WAITING_STATES:
            since = r.last_sent_at
            extra = " (away; paused)" if r.state == S.PAUSED else ""
            days = _days(since, now)
            ago = "your last message was today" if days == 0 else (
                f"{days} day{'s' if days != 1 else ''} since your last message")  # fmt: skip
            waiting.append(f"{who}: “{r.subject}”, {ago}{extra}.")
        elif r.state == S.REPLIED:
            answered.append(f"{who} answered “{r.subject}”.")
        elif r.state == S.DISMISSED:
            waiting.append(f"{who}: “{r.subject}” (you chose not to follow up).")
        for person in r.suggested:
            address = person.rsplit("<", 1)[-1].rstrip(">")
            suggested.append(f"{who} suggested {person}: mentor-assistant mentor add --from-suggestion {address}")
    goals = []
    for g in status.get("goals", []):
        target, promised = date.fromisoformat(g["target"]), date.fromisoformat(g["deadline"])
        if g["status"] == "done" or g["id"] in mentioned:
            continue
        if target <= next_week_end or promised <= next_week_end:
            when = "this week" if min(target, promised) <= this_week_end else "next week"
            goals.append(f"{g['title']}: aim for {day_text(target)}, promised {day_text(promised)} ({when}).")
    checkin = []
    for c in status.get("checkins", []):
        start = datetime.fromisoformat(c["start"]).astimezone(settings.tz)
        checkin.append(f"With {mentor_name(settings, c['mentor'])}, {start:%a %b} {start.day} at {start:%H:%M}:")
        checkin.extend(f"  - {item}" for item in c.get("agenda", []))
    review = [line for c in settings.contracts if packet_due(settings, c, now=now) for line in packet_lines(
        settings, c, now=now)]  # fmt: skip
    record = track_record(settings.goals, settings.padding, me=settings.me.addresses)
    return {
        "Needs you now": needs,
        "Waiting on": waiting,
        "Answered": answered,
        "Suggested colleagues": suggested,
        "Goals this week and next": goals,
        "Next check-ins": checkin,
        "Your review is coming": review,
        "Your track record": [record.sentence(), *([record.suggestion] if record.suggestion else [])]
        if record.done
        else [],
    }


def compose_digest(
    settings: Settings, sections: dict[str, list[str]], *, now: datetime, period: str
) -> tuple[bytes, str]:
    """The digest message (to the resident only) and its Message-ID."""
    me = settings.me
    domain = me.email.partition("@")[2]
    address = header_address(me.name, me.email)
    message_id = f"<mentor-assistant.digest.{uuid.uuid5(NAMESPACE, f'{me.email}:{period}').hex[:16]}@{domain}>"
    msg = EmailMessage(policy=POLICY)
    msg["From"] = address
    msg["To"] = address
    msg["Subject"] = f"Mentorship digest, {now.astimezone(settings.tz):%a %b} {now.astimezone(settings.tz).day}"
    msg["Date"] = format_datetime(now.astimezone(settings.tz))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: nobody should auto-reply to this
    msg["X-Mentor-Assistant"] = f"digest={period}"
    text_parts, html_parts = [], []
    for title, lines in sections.items():
        if not lines:
            continue
        text_parts.append(
            f"{title}\n" + "\n".join(f"- {line}" if not line.startswith("  ") else line for line in lines)
        )
        items = "".join(f"<li>{html.escape(line.strip().lstrip('- '))}</li>" for line in lines)
        html_parts.append(f"<h3>{html.escape(title)}</h3><ul>{items}</ul>")
    if not text_parts:
        text_parts.append("Nothing needs you this time.")
        html_parts.append("<p>Nothing needs you this time.</p>")
    footer = "Sent by mentor-assistant to you only; it never writes to your mentors."
    msg.set_content("\n\n".join(text_parts) + f"\n\n-- \n{footer}\n", charset="utf-8")
    msg.add_alternative(
        f'<html><body>{"".join(html_parts)}<p style="color:#666">{html.escape(footer)}</p></body></html>',
        subtype="html",
        charset="utf-8",
    )
    return msg.as_bytes(), message_id
