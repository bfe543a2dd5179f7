"""The decision data the core reads: who the resident is, their mentors, goals, contract
and rules. Built by `assistant.config` from the file; frozen; no hosts, paths or secrets.
"""

from __future__ import annotations

import functools
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
class Period:
    """An earlier version of a contract, kept when it was renewed: until its review, every `every`."""

    version: int
    review: date
    every: timedelta
    renewed: date | None = None  # the day it was renewed; the next version starts then if after the review


@dataclass(frozen=True)
class Contract:
    """One mentorship contract (`[contract]`, or one of `[[contracts]]`)."""

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
    mentor_goals: tuple[str, ...] = ()  # what the mentor wants for the resident
    outcome: tuple[str, ...] = ()  # what both are looking for: a publication, a fellowship position
    version: int = 1
    ended: date | None = None
    previous: tuple[Period, ...] = ()  # the versions before this one, oldest first
    key: str = ""  # names its calendar objects: "" for the earliest contract, else its mentor's address

    @property
    def last_day(self) -> date:
        """The last day a check-in can fall on: the day before the review, or the day it ended."""
        before_review = self.review - timedelta(days=1)
        return min(before_review, self.ended) if self.ended else before_review

    def ended_by(self, day: date) -> bool:
        """Whether the relationship has ended on or before `day`."""
        return self.ended is not None and self.ended <= day


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
    mentor: str = ""  # the address of the mentor this goal belongs to ("" = the only contract's)


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
    contracts: tuple[Contract, ...] = ()
    padding: Padding = field(default_factory=Padding)
    followup: FollowupSettings = field(default_factory=FollowupSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    digest: str = "off"  # "daily HH:MM" | "weekly DAY HH:MM" | "off" (also when there is no [smtp])
    calendar: bool = False  # whether a calendar is configured

    def mentor_for(self, address: str) -> Mentor | None:
        """The configured mentor one of whose addresses is `address`."""
        return self._mentor_index.get(address.lower())

    @functools.cached_property
    def _mentor_index(self) -> dict[str, Mentor]:
        index: dict[str, Mentor] = {}
        for mentor in self.mentors:
            for email in mentor.emails:
                index.setdefault(email.lower(), mentor)  # the first mentor listing it, as before
        return index

    def same_mentor(self, a: str, b: str) -> bool:
        """Whether two addresses are the same person (one configured mentor, or equal)."""
        if a.lower() == b.lower():
            return True
        mentor = self.mentor_for(a)
        return mentor is not None and mentor is self.mentor_for(b)

    def contract_of(self, address: str) -> Contract | None:
        """The contract with the mentor who has `address`."""
        return next((c for c in self.contracts if self.same_mentor(c.mentor, address)), None)

    def goals_of(self, contract: Contract) -> tuple[Goal, ...]:
        """The goals of one relationship: those naming its mentor, or all unnamed ones when it is the only one."""
        only = len(self.contracts) == 1
        return tuple(g for g in self.goals if (self.same_mentor(g.mentor, contract.mentor) if g.mentor else only))

    def goal_mentor(self, goal: Goal) -> Mentor | None:
        """Who a goal is promised to: its mentor, else the only contract's, else the only mentor."""
        if goal.mentor:
            return self.mentor_for(goal.mentor)
        if len(self.contracts) == 1:
            return self.mentor_for(self.contracts[0].mentor)
        if len(self.mentors) == 1 and not self.contracts:
            return self.mentors[0]
        return None

    def mentor_label(self, address: str) -> str:
        """The mentor's configured name, else the address."""
        mentor = self.mentor_for(address)
        return mentor.name if mentor and mentor.name else address

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.me.timezone)

    @property
    def tracking_addresses(self) -> frozenset[str]:
        """The resident's addresses and the BCC tracking address: never a mentor."""
        bcc = {self.tracking.bcc.lower()} if self.tracking.bcc else set()
        return self.me.addresses | bcc
