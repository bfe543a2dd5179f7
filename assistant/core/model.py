"""Plain data the core decides on: messages and calendar objects as the servers showed them.

Everything is frozen; the core builds new values instead of mutating. What the assistant
remembers between cycles is in `state.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Our private header on every draft we write, and the keyword beside our \Flagged: a
# message with the keyword but without \Flagged is one whose flag the resident removed.
DRAFT_HEADER = "X-Mentor-Assistant"
FLAG_KEYWORD = "$MentorFollowUp"
# On the request message: the resident deleted our draft; no more nudges (survives a lost state).
DISMISSED_KEYWORD = "$MentorDismissed"
# The only flags our own draft may carry and still be ours to remove.
OUR_DRAFT_FLAGS = frozenset({"\\Draft", "\\Seen", "\\Recent"})


def flags_untouched(flags: frozenset[str]) -> bool:
    """A draft's flags as we wrote them: nothing added, and still \\Seen (marking it unread is a touch)."""
    return flags <= OUR_DRAFT_FLAGS and "\\Seen" in flags


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
    internaldate: datetime | None = None  # when the server received it (arrival order)
    size: int | None = None  # RFC822.SIZE, where the server gave it

    @property
    def arrived(self) -> datetime:
        """When the server saw it (INTERNALDATE), else its Date."""
        return self.internaldate or self.date

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
    drafts: tuple[MailMessage, ...]  # messages in Drafts that are ours or reply into a request's thread
    keywords_allowed: bool = True
    skipped: tuple[str, ...] = ()  # descriptions of malformed messages that were skipped
    manual: frozenset[str] = frozenset()  # Message-IDs tracked by hand
    # Requests (by their Message-ID) for which every folder where mail can be filed was
    # searched for an answer this cycle; only these may get a new follow-up draft.
    evidence_for: frozenset[str] = frozenset()
