"""Plain data the core decides on: messages as seen on the server, and what we remember.

Everything is frozen; the core builds new values instead of mutating. Records are
(de)serialised to JSON-able dicts with `to_dict` / `from_dict` by the store.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

# Request states, as named in `status --json`.
WAITING = "waiting"
DRAFTED = "drafted"
FOLLOWED_UP = "followed_up"
PAUSED = "paused"
REPLIED = "replied"
BOUNCED = "bounced"
DISMISSED = "dismissed"
CLOSED = "closed"
STATES = (WAITING, DRAFTED, FOLLOWED_UP, PAUSED, REPLIED, BOUNCED, DISMISSED, CLOSED)
FINAL_STATES = frozenset({REPLIED, BOUNCED, CLOSED})

# Our private header on every draft we write, and the keyword beside our \Flagged.
DRAFT_HEADER = "X-Mentor-Assistant"
FLAG_KEYWORD = "$MentorFollowUp"


@dataclass(frozen=True)
class Address:
    """A mailbox: display name and lower-cased address."""

    name: str
    email: str

    def formatted(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass(frozen=True)
class MailMessage:
    """One message as the IMAP server showed it: headers, flags, and a body when fetched."""

    folder: str
    uid: int
    message_id: str
    date: datetime
    subject: str = ""
    sender: Address | None = None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    # Lower-cased header names to values, for classification (auto-replies, lists, ours).
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    gm_thrid: str | None = None  # Gmail's thread id, where the server offers X-GM-EXT-1
    # The message itself (size-capped), fetched only when its body must be read.
    raw: bytes | None = None
    # sha256 of our draft's identity and text, when this is a draft of ours with a body.
    fingerprint: str | None = None

    def header(self, name: str) -> str:
        """The first value of header `name` (case-insensitive), or ""."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return ""

    @property
    def recipients(self) -> tuple[Address, ...]:
        return self.to + self.cc

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The Message-IDs this message says it follows."""
        return self.in_reply_to + self.references


@dataclass(frozen=True)
class DraftRecord:
    """A follow-up draft we intend to write or have written for one round."""

    round: int
    message_id: str
    created_at: str  # ISO 8601
    uid: int | None = None  # set once the APPEND succeeded
    fingerprint: str = ""
    missing_since: str | None = None


@dataclass(frozen=True)
class RequestRecord:
    """What the assistant remembers about one request to a mentor (a row of the state)."""

    id: str
    message_id: str
    mentor: str
    subject: str
    sent_at: str  # ISO 8601 with offset
    recipients: tuple[str, ...] = ()
    thread: tuple[str, ...] = ()  # Message-IDs the resident sent in this thread, oldest first
    conversation: tuple[str, ...] = ()  # Gmail thread id / Outlook conversation keys
    last_sent_at: str = ""
    state: str = WAITING
    round: int = 0
    next_action_at: str | None = None
    why: str = ""
    source: str = "mentor"  # why it is tracked: mentor | bcc | keyword | manual
    flagged_by_us: bool = False
    draft: DraftRecord | None = None
    reply_message_id: str | None = None
    reported_edited: bool = False
    untracked: bool = False
    suggested: tuple[str, ...] = ()  # people the mentor's reply suggested, as "Name <address>"

    def to_dict(self) -> dict[str, Any]:
        # Faster than dataclasses.asdict, which deep-copies: this runs for every request on every save.
        data = {name: getattr(self, name) for name in _REQUEST_FIELDS}
        if self.draft is not None:
            data["draft"] = {name: getattr(self.draft, name) for name in _DRAFT_FIELDS}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RequestRecord:
        data = dict(data)
        draft = data.pop("draft", None)
        for key in ("recipients", "thread", "conversation", "suggested"):
            data[key] = tuple(data.get(key) or ())
        known = set(cls.__dataclass_fields__)
        record = cls(**{k: v for k, v in data.items() if k in known})
        if draft:
            record = replace(record, draft=DraftRecord(**draft))
        return record


_REQUEST_FIELDS = tuple(RequestRecord.__dataclass_fields__)
_DRAFT_FIELDS = tuple(DraftRecord.__dataclass_fields__)


@dataclass(frozen=True)
class CalendarRecord:
    """What we last pushed for one calendar object (a row of the state)."""

    uid: str
    href: str
    etag: str | None
    hash: str
    goal: str = ""
    kind: str = ""  # due | aim | todo | checkins | review
    sequence: int = 0
    significant: str = ""  # hash of the properties whose change bumps SEQUENCE
    day: str = ""  # the date we put it on (due/aim: DTSTART; todo: DUE)
    basis: str = ""  # fingerprint of the goal (or contract) it was rendered from
    deleted_by_user: bool = False  # the resident deleted it: not recreated until `basis` changes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalendarRecord:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class GoalOverride:
    """What the resident changed in a calendar app, adopted for one goal (a row of the state)."""

    id: str
    basis: str  # the goal's fingerprint when this was adopted; a config edit supersedes it
    done: str | None = None  # ISO date the task was completed
    promised: str | None = None  # ISO date the deadline event was moved to
    moved_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GoalOverride:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class ServerObject:
    """A calendar object as the server has it now; `ics` None means it is gone."""

    href: str
    etag: str | None
    ics: str | None


@dataclass(frozen=True)
class CalendarSnapshot:
    """What the calendar server showed this cycle: our objects that changed there."""

    supports_vtodo: bool
    changed: dict[str, ServerObject]  # by UID, only objects of ours whose ETag moved


@dataclass(frozen=True)
class Folders:
    """The folders the mailbox uses for each role."""

    sent: str
    drafts: str
    trash: str | None
    watch: tuple[str, ...]


@dataclass(frozen=True)
class MailSnapshot:
    """Everything read from the mailbox for one cycle."""

    folders: Folders
    sent: tuple[MailMessage, ...]
    inbound: tuple[MailMessage, ...]
    drafts: tuple[MailMessage, ...]  # messages in Drafts that carry our header
    keywords_allowed: bool = True
    skipped: tuple[str, ...] = ()  # descriptions of malformed messages that were skipped
    manual: frozenset[str] = frozenset()  # Message-IDs tracked by hand


_MESSAGE_FIELDS = tuple(MailMessage.__dataclass_fields__)


def message_to_dict(message: MailMessage) -> dict[str, Any]:
    """A JSON-able form of a message summary, for the scan cache."""
    data = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
    for key in ("sender",):
        data[key] = {"name": message.sender.name, "email": message.sender.email} if message.sender else None
    for key in ("to", "cc"):
        data[key] = [{"name": a.name, "email": a.email} for a in getattr(message, key)]
    data["date"] = message.date.isoformat()
    data["flags"] = sorted(message.flags)
    data["raw"] = base64.b64encode(message.raw).decode() if message.raw is not None else None
    return data


def message_from_dict(data: dict[str, Any]) -> MailMessage:
    """The inverse of `message_to_dict`."""

    def address(value: dict[str, str] | None) -> Address | None:
        return Address(value["name"], value["email"]) if value else None

    raw = data.get("raw")
    return MailMessage(
        folder=data["folder"],
        uid=int(data["uid"]),
        message_id=data["message_id"],
        date=datetime.fromisoformat(data["date"]),
        subject=data.get("subject", ""),
        sender=address(data.get("sender")),
        to=tuple(Address(a["name"], a["email"]) for a in data.get("to", ())),
        cc=tuple(Address(a["name"], a["email"]) for a in data.get("cc", ())),
        in_reply_to=tuple(data.get("in_reply_to", ())),
        references=tuple(data.get("references", ())),
        flags=frozenset(data.get("flags", ())),
        headers=tuple((k, v) for k, v in data.get("headers", ())),
        body=data.get("body"),
        gm_thrid=data.get("gm_thrid"),
        raw=base64.b64decode(raw) if raw else None,
        fingerprint=data.get("fingerprint"),
    )
