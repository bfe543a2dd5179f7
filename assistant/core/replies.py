"""Tying inbound messages to requests: the matching ladder. Classify first, then match.

Rungs, most certain first:
1. In-Reply-To / References name a message of the thread (the request or a follow-up);
2. Gmail's thread id (X-GM-THRID) equals the thread's;
3. Outlook's Thread-Index names the same conversation;
4. for a delivery report: the returned Message-ID, else the failed recipient;
5. the message comes from a request recipient or one of the mentor's addresses, after the
   request, to the resident directly and not through a list (a reply in a new thread,
   or from another of the mentor's addresses). Such a message is not tied to one request:
   it answers every open request to that person (a guess never produces a draft).
"After the request" is what the server saw: it arrived later (INTERNALDATE), or its Date
is later; a reply whose Date is earlier because of a skewed clock still counts.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from assistant.core.classify import BOUNCE, CALENDAR, DELAYED, LIST, RECEIPT, SELF, Verdict, classify
from assistant.core.model import MailMessage


@dataclass(frozen=True)
class Match:
    """An inbound message that belongs to a request, and how we know."""

    message: MailMessage
    verdict: Verdict
    rung: str  # which rule of the ladder tied it to the request


@dataclass(frozen=True)
class RequestKeys:
    """What identifies one request's conversation."""

    id: str
    ids: frozenset[str]  # Message-IDs the resident sent in the thread
    conversation: frozenset[str]  # "gm:<thrid>" and "ti:<guid>" keys
    people: frozenset[str]  # recipients and the mentor's configured addresses
    sent_at: datetime
    subject: str
    open: bool  # not yet replied, bounced or closed
    arrived: datetime | None = None  # when the request reached Sent, as the server saw it


def thread_index_key(value: str) -> str:
    """Outlook's conversation GUID from a Thread-Index header ("" when unreadable)."""
    try:
        data = base64.b64decode(value.strip() + "=" * (-len(value.strip()) % 4), validate=False)
    except (binascii.Error, ValueError):
        return ""
    if len(data) < 22:
        return ""
    return "ti:" + data[6:22].hex()


def conversation_keys(message: MailMessage) -> frozenset[str]:
    """The provider conversation keys a message carries (Gmail thread id, Outlook GUID)."""
    keys = set()
    if message.gm_thrid:
        keys.add(f"gm:{message.gm_thrid}")
    ti = thread_index_key(message.header("thread-index"))
    if ti:
        keys.add(ti)
    return frozenset(keys)


def _rung_by_thread(message: MailMessage, requests: list[RequestKeys]) -> tuple[RequestKeys, str] | None:
    named = set(message.thread_ids)
    for keys in requests:
        if named & keys.ids:
            return keys, "In-Reply-To" if set(message.in_reply_to) & keys.ids else "References"
    carried = conversation_keys(message)
    for keys in requests:
        shared = carried & keys.conversation
        if shared:
            return keys, "Gmail thread id" if next(iter(shared)).startswith("gm:") else "Outlook Thread-Index"
    return None


def _rung_by_report(
    verdict: Verdict, message: MailMessage, requests: list[RequestKeys]
) -> tuple[RequestKeys, str] | None:
    report = verdict.report
    if report is None:
        return None
    if report.original_message_id:
        for keys in requests:
            if report.original_message_id in keys.ids:
                return keys, "the returned Message-ID"
    failed = set(report.recipients)
    candidates = [k for k in requests if failed & k.people and (k.sent_at <= message.date or _after(message, k))]
    if candidates:
        return max(candidates, key=lambda k: k.sent_at), "the failed recipient"
    return None


def _after(message: MailMessage, keys: RequestKeys) -> bool:
    """Whether the message came after the request, by the server's clock or by its Date."""
    if message.internaldate is not None and keys.arrived is not None and message.internaldate > keys.arrived:
        return True
    return message.date > keys.sent_at


def _rung_by_sender(
    message: MailMessage, requests: list[RequestKeys], mine: frozenset[str]
) -> tuple[list[RequestKeys], str]:
    sender = message.sender.email if message.sender else ""
    # Not only when addressed to the resident directly: a Bcc, or another address of theirs
    # that is not configured, still brings the mentor's message here (doubt means silence).
    # Mail through a list is the mentor writing to many, not an answer.
    if not sender or message.header("list-id") or message.header("precedence").lower() in ("list", "bulk"):
        return [], ""
    candidates = [k for k in requests if sender in k.people and _after(message, k)]
    if not candidates:
        return [], ""
    open_ones = [k for k in candidates if k.open]
    if len(open_ones) > 1:
        return open_ones, "a message from the mentor that is not tied to one request (it answers each open one)"
    return (open_ones or [max(candidates, key=lambda k: k.sent_at)]), "a message from the mentor after the request"


def assign(
    inbound: Iterable[MailMessage], requests: list[RequestKeys], *, my_addresses: frozenset[str]
) -> dict[str, list[Match]]:
    """The inbound messages of each request (by request id), oldest first."""
    out: dict[str, list[Match]] = {k.id: [] for k in requests}
    seen: set[tuple[str, str, int]] = set()
    for message in inbound:
        key = (message.message_id or "", message.folder, message.uid)
        if key in seen or (message.message_id and any(message.message_id in k.ids for k in requests)):
            continue
        seen.add(key)
        verdict = classify(message, my_addresses=my_addresses)
        if verdict.kind in (SELF, RECEIPT, CALENDAR):
            continue
        found = _rung_by_thread(message, requests)
        if found is None and verdict.kind in (BOUNCE, DELAYED):
            found = _rung_by_report(verdict, message, requests)
        if found is not None:
            keys, rung = found
            out[keys.id].append(Match(message, verdict, rung))
        elif verdict.kind != LIST:
            targets, rung = _rung_by_sender(message, requests, my_addresses)
            for keys in targets:
                out[keys.id].append(Match(message, verdict, rung))
    for matches in out.values():
        matches.sort(key=lambda m: (m.message.date, m.message.uid))
    return out
