"""Reading what the core needs from the mailbox into one `MailSnapshot`.

Headers only for the scan; bodies only for the resident's own messages in request
threads (to quote them in a draft) and for our drafts (to know whether they were edited).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from assistant.adapters.imap import Mailbox
from assistant.config import Config
from assistant.core.draft import draft_fingerprint
from assistant.core.mime import plain_text
from assistant.core.model import DRAFT_HEADER, MailMessage, MailSnapshot, RequestRecord
from assistant.core.requests import find_threads

log = logging.getLogger(__name__)


def read_mailbox(
    mailbox: Mailbox,
    config: Config,
    *,
    since: date,
    records: dict[str, RequestRecord],
    manual: frozenset[str],
) -> MailSnapshot:
    """Sent, watched folders and our drafts, as plain data."""
    folders = mailbox.detect_folders()
    keywords = mailbox.keywords_allowed(folders.sent)
    active = [r for r in records.values() if r.sent_at]
    scan_from = min([since, *(_date_of(r.sent_at) for r in active)])
    skipped: list[str] = []

    sent, bad = mailbox.fetch_headers(folders.sent, mailbox.search_since(folders.sent, scan_from))
    skipped += bad
    known_roots = {r.message_id: frozenset(r.thread) | {r.message_id} for r in records.values()}
    threads = find_threads(sent, config, since=since, manual=manual, known_roots=known_roots)
    wanted = sorted({m.uid for t in threads for m in t.messages})
    bodies = mailbox.fetch_bodies(folders.sent, wanted)
    sent = [replace(m, body=plain_text(bodies[m.uid])) if m.uid in bodies else m for m in sent]

    inbound: list[MailMessage] = []
    for folder in dict.fromkeys(folders.watch):
        found, bad = mailbox.fetch_headers(folder, mailbox.search_since(folder, scan_from))
        inbound += found
        skipped += bad

    draft_uids = mailbox.search_with_header(folders.drafts, DRAFT_HEADER)
    drafts, bad = mailbox.fetch_headers(folders.drafts, draft_uids)
    skipped += bad
    raw_drafts = mailbox.fetch_bodies(folders.drafts, [m.uid for m in drafts])
    drafts = [
        replace(m, fingerprint=draft_fingerprint(raw_drafts[m.uid])) if m.uid in raw_drafts else m
        for m in drafts
        if m.header(DRAFT_HEADER) and "\\Deleted" not in m.flags
    ]
    log.debug(
        "Read %d sent, %d inbound and %d draft message(s) since %s", len(sent), len(inbound), len(drafts), scan_from
    )
    return MailSnapshot(
        folders=folders,
        sent=tuple(sent),
        inbound=tuple(inbound),
        drafts=tuple(drafts),
        keywords_allowed=keywords,
        skipped=tuple(skipped),
        manual=manual,
    )


def _date_of(iso: str) -> date:
    from datetime import datetime

    return datetime.fromisoformat(iso).date()
