"""The contract's calendar objects: the check-in series (with the next agenda) and the review.

One series and one review event per contract. The series is one recurring VEVENT in the
resident's time zone, with its VTIMEZONE, so 16:00 stays 16:00 across daylight-saving
changes: an RRULE whose UNTIL is the last check-in (a renewal or an end moves it, past
instances stay), and RDATEs for check-ins at a cadence a renewal changed. The next
check-in carries its agenda as an overridden instance (same UID, RECURRENCE-ID), which
every calendar app shows on that day. No ORGANIZER or ATTENDEE: no server sends
invitations.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Event, vRecur

from assistant.core.calendar import (
    MARKER,
    DesiredObject,
    content_hash,
    display_alarm,
    new_calendar,
    object_uid,
    significant_hash,
    stamp,
)
from assistant.core.checkins import agenda, next_checkin_of, runs
from assistant.core.draft import salutation
from assistant.core.settings import Contract, Settings
from assistant.core.state import ObjectKind

_BYDAY = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR", "saturday": "SA",
          "sunday": "SU"}  # fmt: skip


def contract_basis(contract: Contract) -> str:
    """A fingerprint of the contract as configured."""
    fields = [contract.mentor, str(contract.start), str(contract.every), contract.weekday, str(contract.time),
              str(contract.duration), str(contract.review), contract.location, contract.version]  # fmt: skip
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


def contract_uid(settings: Settings, contract: Contract, part: str) -> str:
    """The UID of one of a contract's objects ("checkins" or "review")."""
    if not contract.key:
        return object_uid(settings, "contract", part)
    return object_uid(settings, "contract", contract.key, part)


def mentor_name(settings: Settings, contract: Contract) -> str:
    """The contract's mentor as configured: "Dr. Jane Smith"."""
    return settings.mentor_label(contract.mentor)


def short_name(settings: Settings, contract: Contract) -> str:
    """The mentor as a calendar title names them: "Dr. Smith"."""
    name = mentor_name(settings, contract)
    return salutation(name) or name


def _checkin_event(
    settings: Settings, contract: Contract, uid: str, start: datetime, now: datetime, *, description: str
) -> Event:
    event = Event()
    stamp(event, uid, now)
    event.add("summary", f"Check-in: {short_name(settings, contract)}")
    event.add("dtstart", start)
    event.add("dtend", start + contract.duration)
    if contract.location:
        event.add("location", contract.location)
    event.add("description", description)
    event.add("categories", ["Mentorship"])
    event.add("transp", "OPAQUE")
    event.add(MARKER, f"contract:{contract.key}:checkins" if contract.key else "contract:checkins")
    event.add_component(display_alarm("Check-in tomorrow: prepare your agenda", timedelta(days=1)))
    event.add_component(display_alarm("Mentorship check-in in 15 minutes", timedelta(minutes=15)))
    return event


def checkin_series(settings: Settings, contract: Contract, *, now: datetime) -> DesiredObject | None:
    """The contract's recurring check-in event, with the next check-in's agenda as an override."""
    tz = ZoneInfo(settings.me.timezone)
    found = runs(contract)
    if not found:
        return None
    uid = contract_uid(settings, contract, "checkins")
    first_run, *later = found
    at = contract.time
    first = datetime.combine(first_run.first, at, tzinfo=tz)
    cal = new_calendar()
    series = _checkin_event(
        settings, contract, uid, first, now,
        description="Bring your agenda: who is doing what by when. The agenda of the next check-in is on it.",
    )  # fmt: skip
    # UNTIL is the last check-in itself (inclusive): exact whatever the time zone.
    until = datetime.combine(first_run.days[-1], at, tzinfo=tz).astimezone(UTC)
    series.add("rrule", vRecur(freq="WEEKLY", interval=first_run.every.days // 7, byday=_BYDAY[contract.weekday],
                               until=until))  # fmt: skip
    extra = [datetime.combine(day, at, tzinfo=tz) for run in later for day in run.days]
    if extra:
        series.add("rdate", extra)
    cal.add_component(series)
    upcoming = next_checkin_of(settings, contract, now=now)
    if upcoming is not None:
        items = agenda(settings, contract, start=upcoming)
        override = _checkin_event(
            settings, contract, uid, upcoming, now, description="Agenda\n" + "\n".join(f"- {item}" for item in items)
        )
        override.add("recurrence-id", upcoming)
        cal.add_component(override)
    last = (later[-1] if later else first_run).days[-1]
    cal.add_missing_timezones(first_date=first.date() - timedelta(days=1), last_date=last + timedelta(days=1))
    ics = str(cal.to_ical().decode())
    day = upcoming.date() if upcoming else last
    return DesiredObject(
        uid, ObjectKind.CHECKINS, "", ics, content_hash(ics), significant_hash(ics), day,
        contract_basis(contract), f"check-ins with {mentor_name(settings, contract)}",
    )  # fmt: skip


def review_event(settings: Settings, contract: Contract, *, now: datetime) -> DesiredObject | None:
    """The all-day review on the review date, with a reminder a week before; once the
    contract ended, the same event on the day it ended, saying so."""
    uid = contract_uid(settings, contract, "review")
    cal = new_calendar()
    event = Event()
    stamp(event, uid, now)
    who = short_name(settings, contract)
    ended = contract.ended is not None
    day = contract.ended if contract.ended is not None else contract.review
    if ended:
        summary = f"Ended: mentorship with {who}"
        description = (
            "The mentorship ended on this day, amicably; the check-ins before it stay in the calendar as history. "
            "Keep in touch."
        )
    else:
        summary = f"Review: mentorship with {who}"
        description = (
            "Go back to the mentorship contract together: re-evaluate the goals and priorities, "
            "then decide to end the relationship or redefine it (new goals, a new review date). "
            "`mentor-assistant contract review` prints the review packet."
        )
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("description", description)
    event.add("categories", ["Mentorship"])
    event.add("transp", "TRANSPARENT")
    event.add(MARKER, f"contract:{contract.key}:review" if contract.key else "contract:review")
    if not ended:
        event.add_component(display_alarm(f"In a week: {summary}. Re-read the contract.", timedelta(days=7)))
    cal.add_component(event)
    ics = str(cal.to_ical().decode())
    return DesiredObject(
        uid, ObjectKind.REVIEW, "", ics, content_hash(ics), significant_hash(ics), day,
        contract_basis(contract), f"{summary} ({_fmt(day)})",
    )  # fmt: skip


def _fmt(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def contract_objects(settings: Settings, *, now: datetime) -> list[DesiredObject]:
    """Every contract's series and review event."""
    out = []
    for contract in settings.contracts:
        for obj in (checkin_series(settings, contract, now=now), review_event(settings, contract, now=now)):
            if obj is not None:
                out.append(obj)
    return out
