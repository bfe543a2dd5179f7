"""Which sent messages are requests, and which later ones continue their threads.

A message in Sent, on or after `since`, is a request when a To/Cc recipient is a
configured mentor, its recipients include `tracking.bcc`, it carries `tracking.keyword`,
or it was tracked by hand. A later message the resident sends in the same thread is a
follow-up of that request, not a new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from assistant.config import Config
from assistant.core.model import MailMessage


@dataclass(frozen=True)
class Thread:
    """A request and the resident's later messages in its thread, oldest first."""

    root_id: str  # Message-ID of the message that started the request
    messages: tuple[MailMessage, ...]  # what the scan saw of the resident's thread
    source: str  # mentor | bcc | keyword | manual | continued (root outside the scan)
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
    message: MailMessage, config: Config, manual: frozenset[str], bcc_copies: frozenset[str] = frozenset()
) -> str:
    """Why a sent message is a request ("mentor", "bcc", "keyword", "manual") or ""."""
    if message.message_id and message.message_id in manual:
        return "manual"
    if message.message_id and message.message_id in bcc_copies:
        return "bcc"
    addresses = {a.email for a in message.recipients}
    if any(config.mentor_for(a) for a in addresses):
        return "mentor"
    bcc = config.tracking.bcc
    if bcc and (bcc.lower() in addresses or bcc.lower() in message.header("bcc").lower()):
        return "bcc"
    if config.tracking.keyword and config.tracking.keyword in message.flags:
        return "keyword"
    return ""


def bcc_copies(inbound: Iterable[MailMessage], config: Config) -> frozenset[str]:
    """Message-IDs of the copies of the resident's mail that reached the tracking address."""
    bcc = (config.tracking.bcc or "").lower()
    if not bcc:
        return frozenset()
    found = set()
    for message in inbound:
        if not message.sender or message.sender.email not in config.me.addresses or not message.message_id:
            continue
        delivered = " ".join(message.header(h) for h in ("delivered-to", "x-original-to", "bcc")).lower()
        if bcc in delivered or any(a.email == bcc for a in message.recipients):
            found.add(message.message_id)
    return frozenset(found)


def mentor_address(message: MailMessage, config: Config) -> str:
    """The configured mentor among the recipients, else the first recipient."""
    for addr in message.recipients:
        if config.mentor_for(addr.email):
            return addr.email
    mine = config.me.addresses | ({config.tracking.bcc.lower()} if config.tracking.bcc else set())
    for addr in message.recipients:
        if addr.email not in mine:
            return addr.email
    return message.recipients[0].email if message.recipients else ""


def find_threads(
    sent: Iterable[MailMessage],
    config: Config,
    *,
    since: date,
    manual: frozenset[str] = frozenset(),
    known_roots: dict[str, frozenset[str]] | None = None,
    bcc_copies: frozenset[str] = frozenset(),
) -> list[Thread]:
    """Group the resident's sent messages into request threads.

    `known_roots` maps a request's root Message-ID to the thread ids remembered in the
    state, so a follow-up is still recognised when its root has left the scanned range.
    """
    ordered = sorted((m for m in sent if m.message_id), key=lambda m: (m.date, m.uid))
    threads: dict[str, list[MailMessage]] = {}
    meta: dict[str, tuple[str, str]] = {}
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
        if root is not None and (root in threads or message.message_id == root):
            threads.setdefault(root, []).append(message)
            owner[message.message_id] = root
            continue
        if root is not None and root not in threads:
            # A follow-up of a request whose root is outside the scan: keep it under that root.
            threads[root] = [message]
            meta[root] = ("continued", "")
            owner[message.message_id] = root
            continue
        if _local_day(message.date, config) < since and message.message_id not in manual:
            continue
        source = tracking_source(message, config, manual, bcc_copies)
        if not source:
            continue
        threads[message.message_id] = [message]
        meta[message.message_id] = (source, mentor_address(message, config))
        owner[message.message_id] = message.message_id
    out = []
    for root_id, messages in threads.items():
        source, mentor = meta.get(root_id, ("continued", ""))
        if source == "continued":
            mentor = mentor_address(messages[0], config)
        out.append(Thread(root_id=root_id, messages=tuple(messages), source=source, mentor=mentor))
    return out


def _local_day(moment: datetime, config: Config) -> date:
    return moment.astimezone(config.tz).date()
