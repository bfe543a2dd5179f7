"""The contract's calendar objects: the check-in series (with the next agenda) and the review.

The series is one recurring VEVENT in the resident's time zone, with its VTIMEZONE, so
16:00 stays 16:00 across daylight-saving changes. The next check-in carries its agenda
as an overridden instance (same UID, RECURRENCE-ID), which every calendar app shows on
that day. No ORGANIZER or ATTENDEE: no server sends invitations.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
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
from assistant.core.checkins import agenda, first_checkin, next_checkin
from assistant.core.draft import salutation
from assistant.core.settings import Contract, Settings
from assistant.core.state import ObjectKind

_BYDAY = {"monday": "MO", "tuesday": "TU", "wednesday": "WE", "thursday": "TH", "friday": "FR", "saturday": "SA",
          "sunday": "SU"}  # fmt: skip


def contract_basis(contract: Contract) -> str:
    """A fingerprint of the contract as configured."""
    fields = [contract.mentor, str(contract.start), str(contract.every), contract.weekday, str(contract.time),
              str(contract.duration), str(contract.review), contract.location]  # fmt: skip
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()[:16]


def _mentor(settings: Settings) -> str:
    assert settings.contract is not None
    mentor = settings.mentor_for(settings.contract.mentor)
    return mentor.name if mentor and mentor.name else settings.contract.mentor


def _short(settings: Settings) -> str:
    """The mentor as a calendar title names them: "Dr. Smith"."""
    return salutation(_mentor(settings)) or _mentor(settings)


def _checkin_event(settings: Settings, uid: str, start: datetime, now: datetime, *, description: str) -> Event:
    contract = settings.contract
    assert contract is not None
    event = Event()
    stamp(event, uid, now)
    event.add("summary", f"Check-in: {_short(settings)}")
    event.add("dtstart", start)
    event.add("dtend", start + contract.duration)
    if contract.location:
        event.add("location", contract.location)
    event.add("description", description)
    event.add("categories", ["Mentorship"])
    event.add("transp", "OPAQUE")
    event.add(MARKER, "contract:checkins")
    event.add_component(display_alarm("Check-in tomorrow: prepare your agenda", timedelta(days=1)))
    event.add_component(display_alarm("Mentorship check-in in 15 minutes", timedelta(minutes=15)))
    return event


def checkin_series(settings: Settings, *, now: datetime) -> DesiredObject | None:
    """The recurring check-in event, with the next check-in's agenda as an override."""
    contract = settings.contract
    if contract is None:
        return None
    tz = ZoneInfo(settings.me.timezone)
    uid = object_uid(settings, "contract", "checkins")
    first = datetime.combine(first_checkin(contract), contract.time, tzinfo=tz)
    if first.date() >= contract.review:
        return None
    cal = new_calendar()
    series = _checkin_event(
        settings, uid, first, now,
        description="Bring your agenda: who is doing what by when. The agenda of the next check-in is on it.",
    )  # fmt: skip
    until = datetime.combine(contract.review, time(0, 0), tzinfo=tz).astimezone(UTC)
    series.add("rrule", vRecur(freq="WEEKLY", interval=contract.every.days // 7, byday=_BYDAY[contract.weekday],
                               until=until))  # fmt: skip
    cal.add_component(series)
    upcoming = next_checkin(settings, now=now)
    if upcoming is not None:
        items = agenda(settings, start=upcoming)
        override = _checkin_event(
            settings, uid, upcoming, now, description="Agenda\n" + "\n".join(f"- {item}" for item in items)
        )
        override.add("recurrence-id", upcoming)
        cal.add_component(override)
    cal.add_missing_timezones(
        first_date=first.date() - timedelta(days=1), last_date=contract.review + timedelta(days=1)
    )
    ics = str(cal.to_ical().decode())
    day = upcoming.date() if upcoming else first.date()
    return DesiredObject(
        uid, ObjectKind.CHECKINS, "", ics, content_hash(ics), significant_hash(ics), day,
        contract_basis(contract), f"check-ins with {_mentor(settings)}",
    )  # fmt: skip


def review_event(settings: Settings, *, now: datetime) -> DesiredObject | None:
    """The all-day review on the contract's review date, with a reminder a week before."""
    contract = settings.contract
    if contract is None:
        return None
    uid = object_uid(settings, "contract", "review")
    cal = new_calendar()
    event = Event()
    stamp(event, uid, now)
    summary = f"Review: mentorship with {_short(settings)}"
    event.add("summary", summary)
    event.add("dtstart", contract.review)
    event.add("dtend", contract.review + timedelta(days=1))
    event.add(
        "description",
        "Go back to the mentorship contract together: re-evaluate the goals and priorities, "
        "then decide to end the relationship or redefine it (new goals, a new review date).",
    )
    event.add("categories", ["Mentorship"])
    event.add("transp", "TRANSPARENT")
    event.add(MARKER, "contract:review")
    event.add_component(display_alarm(f"In a week: {summary}. Re-read the contract.", timedelta(days=7)))
    cal.add_component(event)
    ics = str(cal.to_ical().decode())
    return DesiredObject(
        uid, ObjectKind.REVIEW, "", ics, content_hash(ics), significant_hash(ics), contract.review,
        contract_basis(contract), f"{summary} ({_fmt(contract.review)})",
    )  # fmt: skip


def _fmt(day: date) -> str:
    return f"{day:%a %b} {day.day}, {day.year}"


def contract_objects(settings: Settings, *, now: datetime) -> list[DesiredObject]:
    """Both contract objects, when there is a contract."""
    return [obj for obj in (checkin_series(settings, now=now), review_event(settings, now=now)) if obj is not None]
