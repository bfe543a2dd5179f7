"""Reading what the core needs from the mailbox into one `MailSnapshot`, incrementally.

Per folder a cursor (UIDVALIDITY, the last UID seen, HIGHESTMODSEQ where CONDSTORE is
offered, EXISTS) and a cache of the few messages that matter are kept in the state. A
cycle fetches the headers of new messages only, the flags that changed, and a body only
where the core asks for one (`Relevance.needs_body`), size-capped. What matters is
decided by the core (`core/relevance.py`); this module only asks. A cycle with nothing
new costs one EXAMINE per folder and one SEARCH in Drafts. A changed UIDVALIDITY, or
changed tracking rules (the relevance fingerprint), start a folder's scan over; requests
are keyed by Message-ID, so nothing is duplicated. Nothing is ever marked read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from assistant.core.draft import draft_fingerprint, intact
from assistant.core.mime import plain_text
from assistant.core.model import DRAFT_HEADER, Folders, MailMessage, MailSnapshot
from assistant.core.relevance import Relevance
from assistant.core.requests import bcc_copies
from assistant.core.settings import Settings
from assistant.core.state import EvidenceMark, FolderCursor, State
from assistant.evidence import search_evidence
from assistant.mailbox import Mailbox

log = logging.getLogger(__name__)

SENT_BODY_CAP = 64 * 1024
DRAFT_CAP = 4 * 1024 * 1024  # a larger draft holds an attachment: it is the resident's, never ours to remove
REPORT_BODY_CAP = 256 * 1024


@dataclass(frozen=True)
class ScanCache:
    """What the next cycle's scan starts from; `cycle.py` saves it in the state."""

    fingerprint: str
    cursors: dict[str, FolderCursor]
    messages: tuple[MailMessage, ...]
    evidence: dict[str, EvidenceMark]


class _FolderScan:
    """One folder's incremental scan: the cached messages kept current, and the new ones."""

    def __init__(self, mailbox: Mailbox, folder: str, cursor: FolderCursor | None, cached: list[MailMessage],
                 *, sizes: bool = False):  # fmt: skip
        self.sizes = sizes  # RFC822.SIZE too (Drafts: a draft is compared whole)
        self.mailbox = mailbox
        self.folder = folder
        self.cursor = cursor
        self.cached = cached
        self.new: list[MailMessage] = []
        self.skipped: list[str] = []
        self.info = mailbox.examine(folder)
        self.fresh = cursor is None or cursor.uidvalidity != self.info.uidvalidity

    def run(self, scan_from: date, keep: Callable[[MailMessage], bool]) -> FolderCursor:
        info = self.info
        cur = self.cursor
        if self.fresh:
            if cur is not None:
                log.info("UIDVALIDITY of %s changed; reading it again", self.folder)
            self.cached = []
            uids = self.mailbox.search_since(self.folder, scan_from)
        else:
            assert cur is not None
            uids = self.mailbox.uids_after(self.folder, cur.last_uid) if info.uidnext > cur.last_uid + 1 else []
            self._refresh_cached(cur, len(uids), keep)
        found, bad = self.mailbox.fetch_headers(self.folder, uids, keep, sizes=self.sizes)
        self.new += found
        self.skipped += bad
        last_uid = max([cur.last_uid if cur and not self.fresh else 0, *uids, info.uidnext - 1, 0])
        return FolderCursor(self.folder, info.uidvalidity, last_uid, info.highestmodseq, info.exists)

    def _refresh_cached(self, cur: FolderCursor, new_count: int, keep: Callable[[MailMessage], bool]) -> None:
        """Keep the cached messages' flags current and drop the ones that are gone."""
        info = self.info
        uids = [m.uid for m in self.cached]
        if info.exists != cur.exists + new_count and uids:
            still = self.mailbox.existing(self.folder, uids)
            self.cached = [m for m in self.cached if m.uid in still]
        if info.highestmodseq is not None and cur.highestmodseq is not None:
            if info.highestmodseq == cur.highestmodseq:
                return
            changed = self.mailbox.flags_changed_since(self.folder, cur.highestmodseq)
        else:
            changed = self.mailbox.flags_of(self.folder, [m.uid for m in self.cached])
        cached_uids = {m.uid for m in self.cached}
        self.cached = [replace(m, flags=changed[m.uid]) if m.uid in changed else m for m in self.cached]
        # A message seen before but not kept may have become relevant (a keyword was set).
        revisit = [u for u in changed if u not in cached_uids and u <= cur.last_uid]
        if revisit:
            found, bad = self.mailbox.fetch_headers(self.folder, revisit, keep, sizes=self.sizes)
            self.new.extend(found)
            self.skipped.extend(bad)


def read_mailbox(
    mailbox: Mailbox, relevance: Relevance, state: State, *, settings: Settings, now: datetime
) -> tuple[MailSnapshot, ScanCache]:
    """Sent, the watched folders, Drafts and the answers found anywhere else, as plain data;
    and the scan cache to save."""
    folders = mailbox.detect_folders()
    if state.meta.scan_fingerprint == relevance.fingerprint:
        cursors, cached = dict(state.cursors), list(state.messages)
    else:
        cursors, cached = {}, []  # the rules changed: what was kept under the old ones may not be enough
    scan_from = relevance.scan_from

    def scan_of(folder: str, *, sizes: bool = False) -> _FolderScan:
        return _FolderScan(mailbox, folder, cursors.get(folder), [m for m in cached if m.folder == folder], sizes=sizes)

    # Where each folder stands, asked first and back to back (a STATUS each): then the work.
    sent_scan = scan_of(folders.sent)
    watched = [scan_of(f) for f in dict.fromkeys(folders.watch) if f not in (folders.sent, folders.drafts)]
    draft_scan = scan_of(folders.drafts, sizes=True)  # sizes: a draft is compared whole
    copies = _bcc_copies(mailbox, relevance, folders, cached, cursors)

    # Sent first, keeping only requests and their threads as the batches come in.
    new_cursors = {folders.sent: sent_scan.run(scan_from, relevance.sent_filter(copies))}
    sent = sent_scan.cached + sent_scan.new
    threads = relevance.with_sent(sent)

    scans = [sent_scan]
    inbound: list[MailMessage] = []
    incremental: list[_FolderScan] = []
    for scan in watched:
        new_cursors[scan.folder] = scan.run(scan_from, threads.keep_inbound)
        scans.append(scan)
        inbound += scan.cached + scan.new
        if not scan.fresh:
            incremental.append(scan)
    # A reply may predate a request's first sighting in Sent (a late copy): only folders
    # read incrementally can lack it; a folder read from the start already holds it.
    new_requests = relevance.new_requests(sent, copies)
    if new_requests and incremental:
        inbound += _backfill(mailbox, incremental, new_requests, inbound, threads)
    # Drafts before the search for answers: a draft waiting for a request makes it searched for.
    new_cursors[folders.drafts] = draft_scan.run(scan_from, threads.keep_draft)
    scans.append(draft_scan)
    waiting = draft_scan.cached + draft_scan.new
    # Answers filed anywhere else (archived on a phone, moved by a server rule): searched
    # for on the server, only where a folder received something since the last search.
    queries = relevance.evidence_queries(settings, state, sent, copies, now=now, drafts=waiting)
    evidence = search_evidence(mailbox, threads, queries, folders, state, cached)
    inbound += [m for m in evidence.found if (m.folder, m.uid) not in {(i.folder, i.uid) for i in inbound}]
    sent = _with_bodies(mailbox, folders.sent, sent)
    inbound = _with_report_bodies(mailbox, threads, inbound)
    drafts = _with_fingerprints(mailbox, folders.drafts, waiting)
    skipped = tuple(s for scan in scans for s in scan.skipped)
    log.debug("Scan: %d sent, %d inbound and %d draft message(s) kept", len(sent), len(inbound), len(drafts))
    snapshot = MailSnapshot(
        folders=folders,
        sent=tuple(sent),
        inbound=tuple(inbound),
        drafts=tuple(drafts),
        keywords_allowed=mailbox.keywords_allowed(folders.sent),
        skipped=skipped,
        manual=relevance.rules.manual,
        evidence_for=evidence.complete_for,
    )
    return snapshot, ScanCache(relevance.fingerprint, new_cursors, (*sent, *inbound, *drafts), evidence.marks)


def _bcc_copies(
    mailbox: Mailbox,
    relevance: Relevance,
    folders: Folders,
    cached: list[MailMessage],
    cursors: dict[str, FolderCursor],
) -> frozenset[str]:
    """Message-IDs of the resident's mail whose BCC copy reached the tracking address."""
    bcc = relevance.rules.bcc
    if not bcc:
        return frozenset()
    found = [m for m in cached if m.folder != folders.sent]
    for folder in dict.fromkeys(folders.watch):
        cursor = cursors.get(folder)
        after = cursor.last_uid if cursor else 0  # older ones were looked at before
        uids = [u for u in mailbox.search_addressed_to(folder, bcc, since=relevance.scan_from, after_uid=after)
                if u > after]  # fmt: skip
        have = {m.uid for m in cached if m.folder == folder}
        messages, _bad = mailbox.fetch_headers(folder, [u for u in uids if u not in have])
        found += messages
    return bcc_copies(found, relevance.rules)


def _with_bodies(mailbox: Mailbox, folder: str, messages: list[MailMessage]) -> list[MailMessage]:
    """The resident's thread messages with their text, to quote in a draft."""
    missing = [m.uid for m in messages if m.body is None]
    bodies = mailbox.fetch_bodies(folder, missing, cap=SENT_BODY_CAP) if missing else {}
    return [replace(m, body=plain_text(bodies[m.uid])[:SENT_BODY_CAP]) if m.uid in bodies else m for m in messages]


def _backfill(
    mailbox: Mailbox,
    scans: list[_FolderScan],
    new_requests: list[MailMessage],
    inbound: list[MailMessage],
    relevance: Relevance,
) -> list[MailMessage]:
    """Older inbound mail about requests first seen now."""
    have = {(m.folder, m.uid) for m in inbound}
    found: list[MailMessage] = []
    for scan in scans:
        uids: set[int] = set()
        for message in new_requests:
            people = tuple(a.email for a in message.recipients)
            uids |= set(mailbox.search_about(scan.folder, message.message_id, people, since=message.date.date()))
        wanted = sorted(u for u in uids if (scan.folder, u) not in have)
        if wanted:
            messages, bad = mailbox.fetch_headers(scan.folder, wanted, relevance.keep_inbound)
            found.extend(messages)
            scan.skipped.extend(bad)
    return found


def _with_report_bodies(mailbox: Mailbox, relevance: Relevance, inbound: list[MailMessage]) -> list[MailMessage]:
    """Bodies where the core needs them; then only what is tied to a request stays."""
    want: dict[str, list[int]] = {}
    for m in inbound:
        if m.raw is None and relevance.needs_body(m):
            want.setdefault(m.folder, []).append(m.uid)
    raws: dict[tuple[str, int], bytes] = {}
    for folder, uids in want.items():
        for uid, raw in mailbox.fetch_bodies(folder, uids, cap=REPORT_BODY_CAP).items():
            raws[(folder, uid)] = raw
    inbound = [replace(m, raw=raws[(m.folder, m.uid)]) if (m.folder, m.uid) in raws else m for m in inbound]
    return [m for m in inbound if relevance.keep_with_body(m)]


def _with_fingerprints(mailbox: Mailbox, folder: str, drafts: list[MailMessage]) -> list[MailMessage]:
    """The drafts, each of ours with the fingerprint of its stored bytes (read once per UID)."""
    ours = [m.uid for m in drafts if m.fingerprint is None and _maybe_ours(m) and (m.size or 0) <= DRAFT_CAP]
    raws = mailbox.fetch_bodies(folder, ours, cap=DRAFT_CAP) if ours else {}
    # A draft of ours whose seal no longer matches was changed: it can never be taken for ours.
    out = [
        replace(m, fingerprint=("" if intact(raws[m.uid]) else "changed:") + draft_fingerprint(raws[m.uid]))
        if m.uid in raws else m
        for m in drafts
    ]  # fmt: skip
    return [m for m in out if "\\Deleted" not in m.flags]


def _maybe_ours(message: MailMessage) -> bool:
    return bool(message.header(DRAFT_HEADER)) or message.message_id.startswith("<mentor-assistant.")
