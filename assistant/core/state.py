"""What the assistant remembers, as typed frozen values: requests, calendar records, goal
overrides, the mail scan's cursors and cache, and a few facts about the servers.

The store (`adapters/store.py`) decodes the state file into these values with one
validating decoder (`adapters/state_codec.py`); the core reads them and returns new ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from assistant.core.model import MailMessage

SCHEMA_VERSION = 2


class RequestState(StrEnum):
    """A request's state, as named in `status --json`."""

    WAITING = "waiting"  # sent, not yet due
    DRAFTED = "drafted"  # a follow-up draft is in Drafts
    FOLLOWED_UP = "followed_up"  # the resident sent a follow-up; waiting again
    PAUSED = "paused"  # an auto-reply said the mentor is away
    REPLIED = "replied"  # a human reply came
    BOUNCED = "bounced"  # delivery failed permanently
    DISMISSED = "dismissed"  # the resident deleted our draft without sending it
    CLOSED = "closed"  # every round used, or untracked


FINAL_STATES = frozenset({RequestState.REPLIED, RequestState.BOUNCED, RequestState.CLOSED})
WAITING_STATES = frozenset({RequestState.WAITING, RequestState.FOLLOWED_UP, RequestState.PAUSED})


class MentorStage(StrEnum):
    """Where a mentor is in the pipeline."""

    PROSPECT = "prospect"
    CONTACTED = "contacted"
    REPLIED = "replied"
    CONTRACT = "contract"
    REVIEW = "review"
    ALUMNI = "alumni"


class TrackSource(StrEnum):
    """Why a sent message is tracked."""

    MENTOR = "mentor"  # a To/Cc recipient is a configured mentor
    BCC = "bcc"  # it was BCC'd to tracking.bcc
    KEYWORD = "keyword"  # it carries tracking.keyword
    MANUAL = "manual"  # `track MESSAGE-ID`
    CONTINUED = "continued"  # a follow-up whose request message was not seen


class ObjectKind(StrEnum):
    """What a calendar object of ours is."""

    DUE = "due"  # the promised deadline
    AIM = "aim"  # the private target
    TODO = "todo"  # the goal's task
    CHECKINS = "checkins"  # the check-in series
    REVIEW = "review"  # the contract's review


@dataclass(frozen=True)
class DraftRecord:
    """A follow-up draft we intend to write or have written for one round."""

    round: int
    message_id: str
    created_at: datetime
    uid: int | None = None  # set once the APPEND succeeded
    fingerprint: str = ""  # "" when we cannot vouch for its content (found after a lost state)
    missing_since: datetime | None = None  # first cycle that did not find it in Drafts
    last_seen_at: datetime | None = None  # last cycle that found it (or an edited version) in Drafts
    thread_then: tuple[str, ...] = ()  # the resident's messages in the thread when it was written
    edited_as: str | None = None  # the Message-ID of the edited version standing in for it


@dataclass(frozen=True)
class RequestRecord:
    """What the assistant remembers about one request to a mentor."""

    id: str
    message_id: str
    mentor: str
    subject: str
    sent_at: datetime
    last_sent_at: datetime  # the last message the resident sent in the thread
    recipients: tuple[str, ...] = ()
    thread: tuple[str, ...] = ()  # Message-IDs the resident sent in this thread, oldest first
    conversation: tuple[str, ...] = ()  # Gmail thread id / Outlook conversation keys
    state: RequestState = RequestState.WAITING
    round: int = 0
    next_action_at: datetime | None = None
    why: str = ""
    source: TrackSource = TrackSource.MENTOR
    flagged_by_us: bool = False
    draft: DraftRecord | None = None
    reply_message_id: str | None = None
    reported_edited: bool = False
    untracked: bool = False
    suggested: tuple[str, ...] = ()  # people the mentor's reply suggested, as "Name <address>"
    arrived: datetime | None = None  # when the request reached Sent (the server's INTERNALDATE)
    flag_declined: bool = False  # the resident removed our flag: it is never put back
    reported: tuple[str, ...] = ()  # keys of notes already given once (a Cc bounce, an edited draft)


@dataclass(frozen=True)
class CalendarRecord:
    """What we last pushed for one calendar object."""

    uid: str
    href: str
    etag: str | None
    hash: str
    kind: ObjectKind
    goal: str = ""
    sequence: int = 0
    significant: str = ""  # hash of the properties whose change bumps SEQUENCE
    day: date | None = None  # the date we put it on (due/aim: DTSTART; todo: DUE)
    basis: str = ""  # fingerprint of the goal (or contract) it was rendered from
    deleted_by_user: bool = False  # the resident deleted it: not recreated until `basis` changes
    exdates: tuple[str, ...] = ()  # a series: check-ins the resident cancelled (ISO date-times)
    kept: tuple[str, ...] = ()  # a series: the resident's own moved or cancelled instances (VEVENT text)


@dataclass(frozen=True)
class GoalOverride:
    """What the resident changed in a calendar app, adopted for one goal."""

    id: str
    basis: str  # the goal's fingerprint when this was adopted; a config edit supersedes it
    done: date | None = None  # the task was completed on this day
    promised: date | None = None  # the deadline event was moved to this day
    moved_from: date | None = None


@dataclass(frozen=True)
class FolderCursor:
    """How far the scan of one folder got: enough to read only what is new next time."""

    folder: str
    uidvalidity: int
    last_uid: int
    highestmodseq: int | None = None
    exists: int = 0


@dataclass(frozen=True)
class CalendarMeta:
    """What was learnt about the calendar collection, so discovery is not repeated."""

    url: str | None = None  # the collection's URL
    name: str | None = None  # the display name it was found by
    configured_url: str | None = None  # the calendar.url it was discovered from
    vtodo: bool | None = None  # whether it takes tasks
    sync_token: str | None = None
    full_at: datetime | None = None  # the last full listing


@dataclass(frozen=True)
class EvidenceMark:
    """How far the search for answers got in one folder: which requests, up to which UID."""

    folder: str
    uidvalidity: int
    uidnext: int
    requests: tuple[str, ...] = ()  # the requests searched for at that point: Message-ID#query hash


@dataclass(frozen=True)
class Meta:
    """Facts about this installation and the servers."""

    first_run: datetime | None = None
    manual: tuple[str, ...] = ()  # Message-IDs tracked by hand
    digest_period: str | None = None  # the period of the last digest sent
    scan_fingerprint: str = ""  # what the scan cache's relevance was decided with
    outreach: Mapping[str, int] = field(default_factory=dict)  # address -> attempt
    calendar: CalendarMeta = field(default_factory=CalendarMeta)
    evidence: Mapping[str, EvidenceMark] = field(default_factory=dict)  # by folder


@dataclass(frozen=True)
class State:
    """The whole remembered state."""

    meta: Meta = field(default_factory=Meta)
    requests: Mapping[str, RequestRecord] = field(default_factory=dict)
    calendar: Mapping[str, CalendarRecord] = field(default_factory=dict)
    overrides: Mapping[str, GoalOverride] = field(default_factory=dict)
    cursors: Mapping[str, FolderCursor] = field(default_factory=dict)
    messages: tuple[MailMessage, ...] = ()  # the scan cache: the messages that matter
