"""Reading what the core needs from the mailbox into one `MailSnapshot`, incrementally.

Per folder the state keeps UIDVALIDITY, the last UID seen, HIGHESTMODSEQ (CONDSTORE) and
EXISTS, and a cache of the few messages that matter: the resident's request threads and
the inbound mail tied to them. A cycle fetches the headers of new messages only, the
flags that changed, and a body only when the core needs one (quoting a sent message,
an out-of-office's return date, a delivery report), size-capped. A cycle with nothing
new costs one EXAMINE per folder and one SEARCH in Drafts. A changed UIDVALIDITY, a
changed config or a message tracked by hand starts that scan over; requests are keyed by
Message-ID, so nothing is duplicated. Nothing is ever marked read.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from assistant.adapters.imap import Mailbox
from assistant.adapters.store import StoreSession
from assistant.config import Config
from assistant.core.classify import needs_body
from assistant.core.decide import request_keys, requests_in
from assistant.core.draft import draft_fingerprint
from assistant.core.mime import plain_text
from assistant.core.model import (
    DRAFT_HEADER,
    Folders,
    MailMessage,
    MailSnapshot,
    message_from_dict,
    message_to_dict,
)
from assistant.core.replies import assign
from assistant.core.requests import bcc_copies, tracking_source

log = logging.getLogger(__name__)

SENT_BODY_CAP = 64 * 1024
REPORT_BODY_CAP = 256 * 1024


def _key(message: MailMessage) -> str:
    return f"{message.folder}\x00{message.uid}"


def scan_fingerprint(config: Config, since: date, manual: frozenset[str], folders: Folders) -> str:
    """What the relevance of a message depends on; when it changes, the scan starts over."""
    basis = {
        "me": sorted(config.me.addresses),
        "mentors": sorted(e.lower() for m in config.mentors for e in m.emails),
        "bcc": config.tracking.bcc,
        "keyword": config.tracking.keyword,
        "since": since.isoformat(),
        "manual": sorted(manual),
        "folders": [folders.sent, folders.drafts, *folders.watch],
    }
    return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


class _FolderScan:
    """One folder's incremental scan: the cached messages kept current, and the new ones."""

    def __init__(self, mailbox: Mailbox, folder: str, cursor: dict[str, Any] | None, cached: list[MailMessage]):
        self.mailbox = mailbox
        self.folder = folder
        self.cursor = cursor
        self.cached = cached
        self.new: list[MailMessage] = []
        self.skipped: list[str] = []
        self.fresh = False
        self.info = mailbox.examine(folder)

    def run(self, scan_from: date, keep: Callable[[MailMessage], bool] | None = None) -> dict[str, Any]:
        info = self.info
        cur = self.cursor
        fresh = self.fresh = cur is None or cur.get("uidvalidity") != info.uidvalidity
        if fresh:
            if cur is not None:
                log.info("UIDVALIDITY of %s changed; reading it again", self.folder)
            self.cached = []
            uids = self.mailbox.search_since(self.folder, scan_from)
        else:
            assert cur is not None
            last = int(cur["last_uid"])
            uids = self.mailbox.uids_after(self.folder, last) if info.uidnext > last + 1 else []
            self._refresh_cached(cur, len(uids), keep)
        found, bad = self.mailbox.fetch_headers(self.folder, uids, keep)
        self.new += found
        self.skipped += bad
        last_uid = max([int(cur["last_uid"]) if cur and not fresh else 0, *uids, info.uidnext - 1, 0])
        return {
            "folder": self.folder,
            "uidvalidity": info.uidvalidity,
            "last_uid": last_uid,
            "highestmodseq": info.highestmodseq,
            "exists": info.exists,
        }

    def _refresh_cached(self, cur: dict[str, Any], new_count: int, keep: Callable[[MailMessage], bool] | None) -> None:
        """Keep the cached messages' flags current and drop the ones that are gone."""
        info = self.info
        uids = [m.uid for m in self.cached]
        if info.exists != int(cur.get("exists", -1)) + new_count and uids:
            still = self.mailbox.existing(self.folder, uids)
            self.cached = [m for m in self.cached if m.uid in still]
        if info.highestmodseq is not None and cur.get("highestmodseq") is not None:
            if info.highestmodseq == cur["highestmodseq"]:
                return
            changed = self.mailbox.flags_changed_since(self.folder, int(cur["highestmodseq"]))
        else:
            changed = self.mailbox.flags_of(self.folder, [m.uid for m in self.cached])
        cached_uids = {m.uid for m in self.cached}
        self.cached = [replace(m, flags=changed[m.uid]) if m.uid in changed else m for m in self.cached]
        # A message seen before but not kept may have become relevant (a keyword was set).
        revisit = [u for u in changed if u not in cached_uids and u <= int(cur["last_uid"])]
        if revisit:
            found, bad = self.mailbox.fetch_headers(self.folder, revisit, keep)
            self.new.extend(found)
            self.skipped.extend(bad)


def read_mailbox(
    mailbox: Mailbox,
    config: Config,
    *,
    since: date,
    session: StoreSession,
    manual: frozenset[str],
) -> MailSnapshot:
    """Sent, the watched folders and our drafts, as plain data; updates the scan cache."""
    folders = mailbox.detect_folders()
    fingerprint = scan_fingerprint(config, since, manual, folders)
    if session.meta.get("scan_fingerprint") != fingerprint:
        session.cursors, session.messages = {}, {}
        session.meta["scan_fingerprint"] = fingerprint
    records = session.requests
    scan_from = min([since, *(datetime.fromisoformat(r.sent_at).date() for r in records.values() if r.sent_at)])
    cached = [message_from_dict(d) for d in session.messages.values()]
    copies = _bcc_copies(mailbox, config, folders, scan_from, cached, session.cursors)

    # Sent first, keeping only requests and their threads as the batches come in.
    known = {i for r in records.values() for i in (r.message_id, *r.thread)} | set(manual) | copies
    known |= {m.message_id for m in cached if m.folder == folders.sent}

    def keep_sent(message: MailMessage) -> bool:
        related = message.message_id in known or bool(set(message.thread_ids) & known)
        if related or tracking_source(message, config, manual, frozenset(copies)):
            known.add(message.message_id)
            return True
        return False

    scans = {folders.sent: _FolderScan(mailbox, folders.sent, session.cursors.get(folders.sent),
                                       [m for m in cached if m.folder == folders.sent])}  # fmt: skip
    session.cursors[folders.sent] = scans[folders.sent].run(scan_from, keep_sent)
    sent_scan = scans[folders.sent]
    sent = sent_scan.cached + sent_scan.new
    early = requests_in(sent, [m for m in cached if m.message_id in copies], records, config, since=since,
                        manual=manual)  # fmt: skip
    keys = request_keys(early, config)
    mine = config.me.addresses

    def keep_inbound(message: MailMessage) -> bool:
        """Tied to a request, a BCC copy, or possibly a delivery report (decided with its body)."""
        if message.message_id in copies or any(assign([message], keys, my_addresses=mine).values()):
            return True
        return needs_body(message, my_addresses=mine, matched=False)

    for folder in dict.fromkeys(folders.watch):
        if folder == folders.sent:
            continue
        scans[folder] = _FolderScan(mailbox, folder, session.cursors.get(folder),
                                    [m for m in cached if m.folder == folder])  # fmt: skip
        session.cursors[folder] = scans[folder].run(scan_from, keep_inbound)
    skipped = [s for scan in scans.values() for s in scan.skipped]
    inbound = [m for folder, scan in scans.items() if folder != folders.sent for m in (*scan.cached, *scan.new)]

    by_id = requests_in(sent, inbound, records, config, since=since, manual=manual)
    threads = [t for _r, t in by_id.values() if t is not None]
    in_threads = {(m.folder, m.uid) for t in threads for m in t.messages}
    sent = _with_bodies(mailbox, folders.sent, [m for m in sent if (m.folder, m.uid) in in_threads])

    new_requests = [r for rid, (r, _t) in by_id.items() if rid not in records]
    # Only folders read incrementally can lack older replies; a folder read from the start
    # this cycle already holds everything since `since`.
    incremental = [f for f, scan in scans.items() if f != folders.sent and not scan.fresh]
    if new_requests and incremental:
        inbound += _backfill(mailbox, incremental, scans, new_requests, inbound)
    inbound = _relevant_inbound(mailbox, config, inbound, by_id)

    drafts = _our_drafts(mailbox, folders.drafts, cached)
    session.messages = {_key(m): message_to_dict(m) for m in (*sent, *inbound, *drafts)}
    log.debug("Scan: %d sent, %d inbound and %d draft message(s) kept", len(sent), len(inbound), len(drafts))
    return MailSnapshot(
        folders=folders,
        sent=tuple(sent),
        inbound=tuple(inbound),
        drafts=tuple(drafts),
        keywords_allowed=sent_scan.info.keywords_allowed,
        skipped=tuple(skipped),
        manual=manual,
    )


def _bcc_copies(
    mailbox: Mailbox,
    config: Config,
    folders: Folders,
    scan_from: date,
    cached: list[MailMessage],
    cursors: dict[str, dict[str, Any]],
) -> set[str]:
    """Message-IDs of the resident's mail whose BCC copy reached the tracking address."""
    if not config.tracking.bcc:
        return set()
    found = [m for m in cached if m.folder != folders.sent]
    for folder in dict.fromkeys(folders.watch):
        after = int(cursors.get(folder, {}).get("last_uid", 0))  # older ones were looked at before
        uids = [u for u in mailbox.search_addressed_to(folder, config.tracking.bcc, since=scan_from, after_uid=after)
                if u > after]  # fmt: skip
        have = {m.uid for m in cached if m.folder == folder}
        messages, _bad = mailbox.fetch_headers(folder, [u for u in uids if u not in have])
        found += messages
    return set(bcc_copies(found, config))


def _with_bodies(mailbox: Mailbox, folder: str, messages: list[MailMessage]) -> list[MailMessage]:
    """The resident's thread messages with their text, to quote in a draft."""
    missing = [m.uid for m in messages if m.body is None]
    bodies = mailbox.fetch_bodies(folder, missing, cap=SENT_BODY_CAP) if missing else {}
    return [replace(m, body=plain_text(bodies[m.uid])[:SENT_BODY_CAP]) if m.uid in bodies else m for m in messages]


def _backfill(
    mailbox: Mailbox,
    watched: list[str],
    scans: dict[str, _FolderScan],
    new_requests: list[Any],
    inbound: list[MailMessage],
) -> list[MailMessage]:
    """Older inbound mail about requests first seen now (a reply may predate the Sent copy's scan)."""
    have = {(m.folder, m.uid) for m in inbound}
    found: list[MailMessage] = []
    for folder in watched:
        uids: set[int] = set()
        for record in new_requests:
            sent_on = datetime.fromisoformat(record.sent_at).date()
            uids |= set(mailbox.search_about(folder, record.message_id, record.recipients, since=sent_on))
        wanted = sorted(u for u in uids if (folder, u) not in have)
        if wanted:
            messages, bad = mailbox.fetch_headers(folder, wanted)
            found.extend(messages)
            scans[folder].skipped.extend(bad)
    return found


def _relevant_inbound(
    mailbox: Mailbox, config: Config, inbound: list[MailMessage], by_id: dict[str, Any]
) -> list[MailMessage]:
    """The inbound messages tied to a request (or BCC copies), with bodies where needed."""
    mine = config.me.addresses
    keys = request_keys(by_id, config)
    matched = {
        (m.message.folder, m.message.uid) for ms in assign(inbound, keys, my_addresses=mine).values() for m in ms
    }
    want: dict[str, list[int]] = {}
    for m in inbound:
        if m.raw is None and needs_body(m, my_addresses=mine, matched=(m.folder, m.uid) in matched):
            want.setdefault(m.folder, []).append(m.uid)
    raws: dict[tuple[str, int], bytes] = {}
    for folder, uids in want.items():
        for uid, raw in mailbox.fetch_bodies(folder, uids, cap=REPORT_BODY_CAP).items():
            raws[(folder, uid)] = raw
    inbound = [replace(m, raw=raws[(m.folder, m.uid)]) if (m.folder, m.uid) in raws else m for m in inbound]
    matched = {
        (m.message.folder, m.message.uid) for ms in assign(inbound, keys, my_addresses=mine).values() for m in ms
    }
    copies = bcc_copies(inbound, config)
    return [m for m in inbound if (m.folder, m.uid) in matched or m.message_id in copies]


def _our_drafts(mailbox: Mailbox, folder: str, cached: list[MailMessage]) -> list[MailMessage]:
    """Our drafts in Drafts, each with the fingerprint of its text (fetched once per UID)."""
    uids = mailbox.search_with_header(folder, DRAFT_HEADER)
    known = {m.uid: m for m in cached if m.folder == folder and m.fingerprint is not None}
    fresh = [u for u in uids if u not in known]
    drafts = [known[u] for u in uids if u in known]
    if fresh:
        found, _bad = mailbox.fetch_headers(folder, fresh)
        raws = mailbox.fetch_bodies(folder, [m.uid for m in found])
        drafts += [replace(m, fingerprint=draft_fingerprint(raws[m.uid])) for m in found if m.uid in raws]
    return [m for m in drafts if m.header(DRAFT_HEADER) and "\\Deleted" not in m.flags]
