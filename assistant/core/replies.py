"""Matching inbound messages to a request's thread. Classify first, then match."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assistant.core.classify import Verdict, classify
from assistant.core.model import MailMessage


@dataclass(frozen=True)
class Match:
    """An inbound message that belongs to a request's thread, and how we know."""

    message: MailMessage
    verdict: Verdict
    rung: str  # which rule of the matching ladder tied it to the thread


def match_thread(
    thread_ids: frozenset[str], inbound: Iterable[MailMessage], *, my_addresses: frozenset[str]
) -> list[Match]:
    """Inbound messages whose In-Reply-To/References name a message of the thread."""
    found = []
    for message in inbound:
        named = set(message.thread_ids) & thread_ids
        if not named or message.message_id in thread_ids:
            continue
        rung = "In-Reply-To" if set(message.in_reply_to) & thread_ids else "References"
        found.append(Match(message, classify(message, my_addresses=my_addresses), rung))
    return sorted(found, key=lambda m: (m.message.date, m.message.uid))
