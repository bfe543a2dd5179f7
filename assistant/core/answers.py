"""Evidence that a mentor answered, and which delivery failures stop a request.

An answer is a human message tied to the request (in the watched folders or found by the
search of every other folder), or a message the resident sent in the thread that replies
to a message not written by the resident: that proves an answer even when the answer
itself is nowhere to be found (read on the phone, then deleted). A delivery failure stops
a request only when the mentor's own address failed; a Cc'd address that bounced is
reported and the request stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from assistant.core.classify import BOUNCE, HUMAN, LIST
from assistant.core.model import MailMessage
from assistant.core.replies import Match
from assistant.core.state import RequestRecord


@dataclass(frozen=True)
class OwnReply:
    """A message of the resident's in the thread that answers someone else's message."""

    message: MailMessage
    replied_to: str


# The rungs that tie a message to one thread by its own headers.
THREAD_RUNGS = frozenset({"In-Reply-To", "References", "Gmail thread id", "Outlook Thread-Index"})


def human_answer(matches: Iterable[Match]) -> Match | None:
    """The first human message tied to the request; also one that came through a mailing
    list but answers the thread itself (doubt means silence)."""
    return next(
        (m for m in matches if m.verdict.kind == HUMAN or (m.verdict.kind == LIST and m.rung in THREAD_RUNGS)), None
    )


def own_reply(
    record: RequestRecord, resident_messages: Iterable[MailMessage], matches: Iterable[Match]
) -> OwnReply | None:
    """A message the resident sent in the thread in reply to a message not written by them
    (and not an automatic one we know of)."""
    messages = list(resident_messages)
    own = {record.message_id, *record.thread, *(m.message_id for m in messages)}
    machine = {m.message.message_id for m in matches if m.verdict.kind != HUMAN}
    for message in messages:
        target = message.in_reply_to[0] if message.in_reply_to else (message.references[-1:] or ("",))[0]
        if target and target not in own and target not in machine and not target.startswith("<mentor-assistant."):
            return OwnReply(message, target)
    return None


def mentor_addresses(record: RequestRecord, configured: Iterable[str]) -> frozenset[str]:
    """Every address that is the mentor this request is to."""
    return frozenset({record.mentor.lower(), *(e.lower() for e in configured)})


def split_bounces(matches: Iterable[Match], mentor: frozenset[str]) -> tuple[Match | None, list[Match]]:
    """The bounce of the mentor's own address (or of no address named), and the other bounces."""
    theirs: Match | None = None
    others: list[Match] = []
    for match in matches:
        if match.verdict.kind != BOUNCE:
            continue
        report = match.verdict.report
        failed = {r.lower() for r in report.recipients} if report is not None else set()
        if not failed or failed & mentor:
            theirs = theirs or match
        else:
            others.append(match)
    return theirs, others
