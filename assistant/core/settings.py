"""The decision data the core reads: who the resident is, their mentors, goals, contract
and rules. Built by `assistant.config` from the file; frozen; no hosts, paths or secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Me:
    """The resident: their identity and time zone."""

    name: str
    email: str
    role: str = ""
    aliases: tuple[str, ...] = ()
    timezone: str = "UTC"

    @property
    def addresses(self) -> frozenset[str]:
        """Every address that is the resident, lower-cased."""
        return frozenset(a.lower() for a in (self.email, *self.aliases))

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]


@dataclass(frozen=True)
class Mentor:
    """A prospect or mentor (`[[mentors]]`)."""

    name: str
    emails: tuple[str, ...]
    area: str = ""
    project: str = ""
    title: str = ""
    source: str = ""
    recommended_by: str = ""
    publications: tuple[str, ...] = ()

    @property
    def email(self) -> str:
        return self.emails[0]


@dataclass(frozen=True)
class Contract:
    """The mentorship contract (`[contract]`)."""

    mentor: str
    start: date
    every: timedelta
    weekday: str
    time: time
    duration: timedelta
    review: date
    location: str = ""
    my_goals: tuple[str, ...] = ()
    my_expectations: tuple[str, ...] = ()
    mentor_expectations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Goal:
    """A SMART goal (`[[goals]]`)."""

    id: str
    title: str
    start: date
    estimate: timedelta | None
    measure: str = ""
    relevant: str = ""
    owner: str = "me"
    promised: date | None = None
    done: date | None = None


@dataclass(frozen=True)
class Padding:
    """The `[padding]` settings."""

    factor: float = 1.5
    round_to: str = "week"  # "day" | "week"
    workdays_only: bool = True


@dataclass(frozen=True)
class FollowupSettings:
    """The `[followup]` settings."""

    wait: timedelta = timedelta(days=14)
    rounds: int = 2
    closing_note: bool = True
    business_days: bool = False


@dataclass(frozen=True)
class TrackingSettings:
    """The `[tracking]` settings."""

    bcc: str | None = None
    keyword: str | None = "$MentorRequest"
    since: date | None = None


@dataclass(frozen=True)
class Settings:
    """Everything the core decides with."""

    me: Me
    mentors: tuple[Mentor, ...] = ()
    goals: tuple[Goal, ...] = ()
    contract: Contract | None = None
    padding: Padding = field(default_factory=Padding)
    followup: FollowupSettings = field(default_factory=FollowupSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    digest: str = "off"  # "daily HH:MM" | "weekly DAY HH:MM" | "off" (also when there is no [smtp])
    calendar: bool = False  # whether a calendar is configured

    def mentor_for(self, address: str) -> Mentor | None:
        """The configured mentor one of whose addresses is `address`."""
        address = address.lower()
        for mentor in self.mentors:
            if address in (e.lower() for e in mentor.emails):
                return mentor
        return None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.me.timezone)

    @property
    def tracking_addresses(self) -> frozenset[str]:
        """The resident's addresses and the BCC tracking address: never a mentor."""
        bcc = {self.tracking.bcc.lower()} if self.tracking.bcc else set()
        return self.me.addresses | bcc
