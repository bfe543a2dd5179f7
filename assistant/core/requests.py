"""Which sent messages are requests, and which later ones continue their threads.

A message in Sent, on or after `since`, is a request when a To/Cc recipient is a
configured mentor, its recipients include `tracking.bcc`, it carries `tracking.keyword`,
or it was tracked by hand. A later message the resident sends in the same thread is a
follow-up of that request, not a new one.

Two kinds of mail to a mentor are never requests of themselves, so never nudged: the
letters of a relationship the assistant drafted (the contract proposal, the review
meeting, the thank-you; known by their header or Message-ID when the mail client kept
them), and mail to a mentor whose contract ends or ended (`ended` is set: a thank-you,
keeping in touch). BCC, the keyword and `track` still make them one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from assistant.core.headers import SCAN_VERSION, strip_reply_prefixes
from assistant.core.model import MailMessage
from assistant.core.settings import Settings
from assistant.core.state import TrackSource


@dataclass(frozen=True)
class TrackingRules:
    """Everything that decides whether a sent message is a request, and nothing else.

    Its fingerprint names the rules: when it changes, what was scanned under the old
    rules is scanned again.
    """

    me: frozenset[str]  # the resident's addresses
    mentors: frozenset[str]  # every configured mentor address
    bcc: str | None
    keyword: str | None
    since: date  # sent mail before this day (in `tz`) is never a new request
    tz: str
    manual: frozenset[str] = frozenset()  # Message-IDs tracked by hand
    ended: tuple[tuple[str, date], ...] = ()  # (address, end day) of every mentor whose contract ends
    # Computed with the rules, before any connection opens: not between two IMAP commands.
    fingerprint: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        basis = [SCAN_VERSION, sorted(self.me), sorted(self.mentors), self.bcc, self.keyword, self.since.isoformat(),
                 self.tz, sorted(self.manual), [(a, d.isoformat()) for a, d in self.ended]]  # fmt: skip
        object.__setattr__(self, "fingerprint", hashlib.sha256(json.dumps(basis).encode()).hexdigest()[:16])

    @classmethod
    def of(cls, settings: Settings, *, since: date, manual: frozenset[str]) -> TrackingRules:
        return cls(
            me=settings.me.addresses,
            mentors=frozenset(e.lower() for m in settings.mentors for e in m.emails),
            bcc=settings.tracking.bcc.lower() if settings.tracking.bcc else None,
            keyword=settings.tracking.keyword,
            since=since,
            tz=settings.me.timezone,
            manual=manual,
            ended=tuple(sorted(
                (e.lower(), c.ended) for c in settings.contracts if c.ended is not None
                for m in [settings.mentor_for(c.mentor)] for e in (m.emails if m else (c.mentor,))
            )),
        )  # fmt: skip

    @property
    def not_mentors(self) -> frozenset[str]:
        """Addresses that are never the person a request is to: the resident's and the BCC address."""
        return self.me | ({self.bcc} if self.bcc else frozenset())


@dataclass(frozen=True)
class Thread:
    """A request and the resident's later messages in its thread, oldest first."""

    root_id: str  # Message-ID of the message that started the request
    messages: tuple[MailMessage, ...]  # what the scan saw of the resident's thread
    source: TrackSource
    mentor: str  # the mentor address it is about

    @property
    def root(self) -> MailMessage | None:
        """The request message itself, when the scan saw it."""
        first = self.messages[0]
        return first if first.message_id == self.root_id else None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(m.message_id for m in self.messages if m.message_id)

    @property
    def last(self) -> MailMessage:
        return self.messages[-1]


def tracking_source(
    message: MailMessage, rules: TrackingRules, bcc_copies: frozenset[str] = frozenset()
) -> TrackSource | None:
    """Why a sent message is a request, or None when it is not one."""
    if message.message_id and message.message_id in rules.manual:
        return TrackSource.MANUAL
    if message.message_id and message.message_id in bcc_copies:
        return TrackSource.BCC
    addresses = {a.email for a in message.recipients}
    mentors = addresses & rules.mentors
    if mentors and not is_letter(message) and not _all_ended(mentors, message, rules):
        return TrackSource.MENTOR
    bcc = rules.bcc
    if bcc and (bcc in addresses or bcc in message.header("bcc").lower()):
        return TrackSource.BCC
    if rules.keyword and rules.keyword in message.flags:
        return TrackSource.KEYWORD
    return None


# The letters of a relationship: `kind=` in our header, or `<mentor-assistant.kind.` Message-IDs.
LETTERS = ("contract", "review", "thanks")


def is_letter(message: MailMessage) -> bool:
    """A contract proposal, review meeting or thank-you the assistant drafted (as far as the client kept it)."""
    kind = message.header("x-mentor-assistant").split("=", 1)[0].strip().lower()
    mid = message.message_id.lower()
    return kind in LETTERS or any(mid.startswith(f"<mentor-assistant.{k}.") for k in LETTERS)


def _all_ended(mentors: set[str], message: MailMessage, rules: TrackingRules) -> bool:
    """Whether every mentor the message is to has a contract that ends (or ended): from the day
    the resident decided to end it, keeping in touch is never nudged, even before that day."""
    ended = dict(rules.ended)
    return all(m in ended for m in mentors)


def is_bcc_copy(message: MailMessage, rules: TrackingRules) -> bool:
    """Whether an inbound message is the copy of the resident's own mail sent to the tracking address."""
    bcc = rules.bcc
    if not bcc or not message.sender or message.sender.email not in rules.me or not message.message_id:
        return False
    delivered = " ".join(message.header(h) for h in ("delivered-to", "x-original-to", "bcc")).lower()
    return bcc in delivered or any(a.email == bcc for a in message.recipients)


def bcc_copies(inbound: Iterable[MailMessage], rules: TrackingRules) -> frozenset[str]:
    """Message-IDs of the copies of the resident's mail that reached the tracking address."""
    return frozenset(m.message_id for m in inbound if is_bcc_copy(m, rules))


def mentor_address(message: MailMessage, rules: TrackingRules) -> str:
    """The configured mentor among the recipients, else the first recipient."""
    for addr in message.recipients:
        if addr.email in rules.mentors:
            return addr.email
    for addr in message.recipients:
        if addr.email not in rules.not_mentors:
            return addr.email
    return message.recipients[0].email if message.recipients else ""


def find_threads(
    sent: Iterable[MailMessage],
    rules: TrackingRules,
    *,
    known_roots: dict[str, frozenset[str]] | None = None,
    bcc_copies: frozenset[str] = frozenset(),
    known_subjects: dict[str, tuple[str, frozenset[str]]] | None = None,
) -> list[Thread]:
    """Group the resident's sent messages into request threads.

    `known_roots` maps a request's root Message-ID to the thread ids remembered in the
    state, so a follow-up is still recognised when its root has left the scanned range.
    `known_subjects` gives a request's subject and recipients: a reply ("Re: …") to the
    same people under the same subject is a follow-up even when a mail client wrote no
    threading headers.
    """
    ordered = sorted((m for m in sent if m.message_id), key=lambda m: (m.date, m.uid))
    threads: dict[str, list[MailMessage]] = {}
    meta: dict[str, tuple[TrackSource, str]] = {}
    owner: dict[str, str] = {}  # any thread Message-ID -> root Message-ID
    for known, ids in (known_roots or {}).items():
        for mid in ids:
            owner.setdefault(mid, known)
    seen: set[str] = set()
    for message in ordered:
        if message.message_id in seen:
            continue  # the same message twice (a copy in another folder)
        seen.add(message.message_id)
        root = owner.get(message.message_id) or next(
            (owner[i] for i in reversed(message.thread_ids) if i in owner), None
        )
        if root is None and not message.thread_ids:
            root = _by_subject(message, threads, known_subjects or {}, rules)
        if root is not None and (root in threads or message.message_id == root):
            threads.setdefault(root, []).append(message)
            owner[message.message_id] = root
            continue
        if root is not None and root not in threads:
            # A follow-up of a request whose root is outside the scan: keep it under that root.
            threads[root] = [message]
            meta[root] = (TrackSource.CONTINUED, "")
            owner[message.message_id] = root
            continue
        if _local_day(message.date, rules) < rules.since and message.message_id not in rules.manual:
            continue
        source = tracking_source(message, rules, bcc_copies)
        if not source:
            continue
        threads[message.message_id] = [message]
        meta[message.message_id] = (source, mentor_address(message, rules))
        owner[message.message_id] = message.message_id
    out = []
    for root_id, messages in threads.items():
        source, mentor = meta.get(root_id, (TrackSource.CONTINUED, ""))
        if source == TrackSource.CONTINUED:
            mentor = mentor_address(messages[0], rules)
        out.append(Thread(root_id=root_id, messages=tuple(messages), source=source, mentor=mentor))
    return out


def _by_subject(
    message: MailMessage,
    threads: dict[str, list[MailMessage]],
    known: dict[str, tuple[str, frozenset[str]]],
    rules: TrackingRules,
) -> str | None:
    """The request an unthreaded reply ("Re: <its subject>", to its people) continues."""
    subject = strip_reply_prefixes(message.subject).casefold()
    if not subject or subject == message.subject.strip().casefold():
        return None  # not written as a reply
    people = {a.email for a in message.recipients} - rules.not_mentors
    candidates = dict(known)
    for root_id, messages in threads.items():
        first = messages[0]
        if first.message_id == root_id:
            candidates[root_id] = (first.subject, frozenset(a.email for a in first.recipients))
    for root_id, (root_subject, recipients) in reversed(list(candidates.items())):
        if strip_reply_prefixes(root_subject).casefold() == subject and people & recipients:
            return root_id
    return None


def _local_day(moment: datetime, rules: TrackingRules) -> date:
    return moment.astimezone(ZoneInfo(rules.tz)).date()
