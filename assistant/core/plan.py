"""The Plan: what one cycle will do, as data. A dry run prints it; `apply.py` executes it."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.core.state import CalendarRecord, GoalOverride, Meta, RequestRecord


@dataclass(frozen=True)
class AddFlags:
    """Set flags on a message (our \\Flagged on a request that needs a nudge)."""

    folder: str
    uid: int
    message_id: str
    flags: tuple[str, ...]
    request_id: str

    def describe(self) -> str:
        return f"flag {self.message_id} in {self.folder} with {' '.join(self.flags)}"


@dataclass(frozen=True)
class RemoveFlags:
    """Remove flags we set ourselves."""

    folder: str
    uid: int
    message_id: str
    flags: tuple[str, ...]
    request_id: str

    def describe(self) -> str:
        return f"unflag {self.message_id} in {self.folder} ({' '.join(self.flags)})"


@dataclass(frozen=True)
class AppendDraft:
    """Write one draft into Drafts (once: apply looks for its Message-ID first).

    A follow-up names its request and round; an outreach, contract or thank-you draft has
    no request (`request_id` "", `round` 0).
    """

    request_id: str
    round: int
    folder: str
    message_id: str
    raw: bytes = field(repr=False)
    fingerprint: str
    summary: str

    def describe(self) -> str:
        which = f" (round {self.round})" if self.round else ""
        return f"write draft {self.message_id}{which} into {self.folder}: {self.summary}"


@dataclass(frozen=True)
class DeleteDraft:
    """Remove one of our drafts, only after re-reading it and confirming it is untouched."""

    request_id: str
    folder: str
    uid: int
    message_id: str
    fingerprint: str
    reason: str

    def describe(self) -> str:
        return f"delete our draft {self.message_id} from {self.folder} ({self.reason})"


@dataclass(frozen=True)
class PutCalendarObject:
    """Create (etag None: If-None-Match *) or update (If-Match etag) one calendar object."""

    uid: str
    href: str  # "" to create at the calendar's URL for this UID
    ics: str = field(repr=False)
    hash: str
    etag: str | None
    summary: str
    record: CalendarRecord  # what to remember once written (href and ETag filled in then)

    def describe(self) -> str:
        verb = "create" if not self.href or self.etag is None else "update"
        return f"{verb} calendar entry {self.summary!r} ({self.uid})"


@dataclass(frozen=True)
class DeleteCalendarObject:
    """Delete one calendar object we created (If-Match etag)."""

    uid: str
    href: str
    etag: str | None
    summary: str

    def describe(self) -> str:
        return f"delete calendar entry {self.summary!r} ({self.uid})"


@dataclass(frozen=True)
class SendDigest:
    """Send the digest for one period to the resident (and only to them)."""

    period: str
    message_id: str
    raw: bytes = field(repr=False)

    def describe(self) -> str:
        return f"send the digest for {self.period} to you"


MailAction = AddFlags | RemoveFlags | AppendDraft | DeleteDraft
CalendarAction = PutCalendarObject | DeleteCalendarObject
Action = MailAction | CalendarAction | SendDigest


@dataclass(frozen=True)
class Plan:
    """What a cycle or a command decided: actions, and the state to record first.

    Each state part is the whole new table; None leaves that part as it is.
    """

    actions: tuple[Action, ...] = ()
    requests: tuple[RequestRecord, ...] | None = None
    calendar: tuple[CalendarRecord, ...] | None = None  # every calendar record, as before the actions
    overrides: tuple[GoalOverride, ...] | None = None  # what the calendar app changed, adopted
    meta: Meta | None = None
    notes: tuple[str, ...] = ()

    @property
    def mail_actions(self) -> tuple[MailAction, ...]:
        return tuple(a for a in self.actions if isinstance(a, AddFlags | RemoveFlags | AppendDraft | DeleteDraft))

    @property
    def calendar_actions(self) -> tuple[CalendarAction, ...]:
        return tuple(a for a in self.actions if isinstance(a, PutCalendarObject | DeleteCalendarObject))

    def describe(self) -> list[str]:
        """One line per action, then the notes."""
        return [a.describe() for a in self.actions] + [f"note: {n}" for n in self.notes]
