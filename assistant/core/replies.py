"""Tying inbound messages to requests: the matching ladder. Classify first, then match.

Rungs, most certain first:
1. In-Reply-To / References name a message of the thread (the request or a follow-up);
2. Gmail's thread id (X-GM-THRID) equals the thread's;
3. Outlook's Thread-Index names the same conversation;
4. for a delivery report: the returned Message-ID, else the failed recipient;
5. the message comes from a request recipient or one of the mentor's addresses, after the
   request, to the resident directly and not through a list (a reply in a new thread,
   or from another of the mentor's addresses).
Each inbound message belongs to at most one request.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from assistant.core.classify import BOUNCE, DELAYED, LIST, RECEIPT, SELF, Verdict, classify
from assistant.core.headers import strip_reply_prefixes
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


def _to_me_directly(message: MailMessage, mine: frozenset[str]) -> bool:
    return any(a.email in mine for a in message.recipients) and not message.header("list-id")


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
    candidates = [k for k in requests if failed & k.people and k.sent_at <= message.date]
    if candidates:
        return max(candidates, key=lambda k: k.sent_at), "the failed recipient"
    return None


def _rung_by_sender(
    message: MailMessage, requests: list[RequestKeys], mine: frozenset[str]
) -> tuple[RequestKeys, str] | None:
    sender = message.sender.email if message.sender else ""
    if not sender or not _to_me_directly(message, mine):
        return None
    if message.header("precedence").lower() in ("list", "bulk"):
        return None
    candidates = [k for k in requests if sender in k.people and k.sent_at < message.date]
    if not candidates:
        return None
    subject = strip_reply_prefixes(message.subject).casefold()
    same = [k for k in candidates if strip_reply_prefixes(k.subject).casefold() == subject]
    pool = same or [k for k in candidates if k.open] or candidates
    best = max(pool, key=lambda k: k.sent_at)
    return best, "same subject from the mentor" if same else "a message from the mentor after the request"


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
        if verdict.kind in (SELF, RECEIPT):
            continue
        found = _rung_by_thread(message, requests)
        if found is None and verdict.kind in (BOUNCE, DELAYED):
            found = _rung_by_report(verdict, message, requests)
        if found is None and verdict.kind != LIST:
            found = _rung_by_sender(message, requests, my_addresses)
        if found is not None:
            keys, rung = found
            out[keys.id].append(Match(message, verdict, rung))
    for matches in out.values():
        matches.sort(key=lambda m: (m.message.date, m.message.uid))
    return out
