"""Which messages in Drafts are a request's pending follow-up.

A draft is recognised by what it is, not only by our private header: mail clients
re-save an edited draft as a new message with a new Message-ID and without our header
(Thunderbird on every save and autosave, K-9, Evolution, Gmail), but they keep its
threading (References, and In-Reply-To with it). So a message in Drafts belongs to a
request when it carries our header or our Message-ID for it, when its In-Reply-To or
References name a message of the request's thread, or when it goes to someone the
request went to under the request's subject. It is the resident's pending follow-up,
whether ours untouched, ours edited, or their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.core.draft import draft_token, parse_draft_header
from assistant.core.headers import strip_reply_prefixes
from assistant.core.model import DRAFT_HEADER, MailMessage
from assistant.core.state import RequestRecord

MAX_ROUNDS = 8
_OURS = "<mentor-assistant."


def our_round(message: MailMessage, record: RequestRecord, domain: str) -> int:
    """The round of ours this draft (or sent copy) is, by our header or Message-ID; 0 if neither."""
    parsed = parse_draft_header(message.header(DRAFT_HEADER))
    if parsed and parsed[0] == record.id:
        return parsed[1]
    if message.message_id.startswith(_OURS):
        # Any domain: the resident's address (and so our drafts' domain) may have changed.
        token = message.message_id[len(_OURS) :].split("@", 1)[0]
        for round_no in range(1, MAX_ROUNDS):
            if draft_token(record.id, round_no) == token:
                return round_no
    return 0


def _ours(
    message: MailMessage, by_id: dict[str, RequestRecord], by_token: dict[str, RequestRecord]
) -> list[RequestRecord]:
    """The requests for which `our_round` is not 0, looked up rather than tried one by one."""
    parsed = parse_draft_header(message.header(DRAFT_HEADER))
    owners = [by_id[parsed[0]]] if parsed and parsed[0] in by_id and parsed[1] else []
    if message.message_id.startswith(_OURS):
        found = by_token.get(message.message_id[len(_OURS) :].split("@", 1)[0])
        if found is not None and not (parsed and parsed[0] == found.id):  # its header said first
            owners.append(found)
    return owners


def _subject(text: str) -> str:
    return re.sub(r"\s+", " ", strip_reply_prefixes(text)).strip().casefold()


def pending_drafts(
    drafts: Iterable[MailMessage], records: Iterable[tuple[RequestRecord, frozenset[str]]], *, domain: str
) -> dict[str, list[MailMessage]]:
    """The drafts of each request (by id). `records` pairs each request with its thread's
    Message-IDs. A draft that fits several requests is pending for each (doubt means silence)."""
    records = list(records)
    out: dict[str, list[MailMessage]] = {r.id: [] for r, _ids in records}
    by_id = {r.id: r for r, _ids in records}
    by_token = {draft_token(r.id, n): r for r, _ids in records for n in range(1, MAX_ROUNDS)}
    for message in drafts:
        if "\\Deleted" in message.flags:
            continue
        owners = _ours(message, by_id, by_token)
        if not owners:
            owners = [r for r, ids in records if ids.intersection(message.thread_ids)]
        if not owners:
            to = {a.email for a in message.recipients}
            subject = _subject(message.subject)
            owners = [
                r for r, _ids in records
                if to & {r.mentor, *r.recipients} and subject and subject == _subject(r.subject)
            ]  # fmt: skip
        for record in owners:
            out[record.id].append(message)
    return out
