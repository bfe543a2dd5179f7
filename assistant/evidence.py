"""Looking for answers everywhere mail can be filed: every selectable folder but Drafts,
Trash and Junk (Gmail's All Mail alone, where the server has one); and in Trash and Junk,
only a message that names the thread (a reply read on the phone and swiped away, or filed
as spam, is still an answer: nudging after it would embarrass).

Residents read on their phones and archive; server rules file mail away. Before a
follow-up is written, and while one of ours waits in Drafts, each such folder is asked,
with one SEARCH per request, for a message from the mentor since the request or one that
names the thread in In-Reply-To/References. A folder is asked again only when it received
something since (its UIDNEXT moved), and then only about the new UIDs. A search that could
not be made leaves the requests without the all-clear: doubt means silence.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass, field, replace

from assistant.core.model import Folders, MailMessage
from assistant.core.relevance import EvidenceQuery, Relevance
from assistant.core.state import EvidenceMark, State
from assistant.errors import AssistantError
from assistant.mailbox import Mailbox

log = logging.getLogger(__name__)

QUERIES_PER_SEARCH = 8
# Up to this many new messages in a folder are read (one FETCH) rather than searched (a SEARCH
# per eight requests).
READ_INSTEAD_OF_SEARCH = 50

# Folders never searched: they hold no answers, only drafts, deleted mail or spam.
_SKIP_FLAGS = frozenset({"\\Noselect", "\\NonExistent", "\\Drafts", "\\Trash", "\\Junk"})
# Junk folders by name, for servers without SPECIAL-USE (only at the top level: "Projects/Spam"
# is the resident's own folder).
_JUNK_NAMES = frozenset({"junk", "junk email", "junk e-mail", "spam", "bulk mail", "[gmail]/spam"})


@dataclass
class Evidence:
    """What the search found, how far it got per folder, and which requests it covered."""

    found: list[MailMessage] = field(default_factory=list)
    marks: dict[str, EvidenceMark] = field(default_factory=dict)
    complete_for: frozenset[str] = frozenset()


def thread_only_folders(listing: tuple[tuple[str, frozenset[str]], ...], folders: Folders) -> list[str]:
    """Trash and Junk: searched only for replies naming a request's thread (never for "any
    mail from the mentor", which there may be old or unrelated)."""
    out = [name for name, flags in listing if flags & {"\\Trash", "\\Junk"} and "\\Noselect" not in flags]
    if folders.trash and folders.trash not in out:
        out.append(folders.trash)
    if not any("\\Junk" in flags for _name, flags in listing):
        out += [name for name, _flags in listing if name.lower() in _JUNK_NAMES and name not in out]
    return out


def evidence_folders(listing: tuple[tuple[str, frozenset[str]], ...], folders: Folders) -> list[str]:
    """The folders to search: All Mail alone where there is one, else every folder where
    mail can be filed but Drafts, Trash and Junk (and the watched folders and Sent, which
    are scanned already). Other folders named "Sent…" are searched: phones and Outlook file
    the resident's replies there."""
    all_mail = [name for name, flags in listing if "\\All" in flags]
    if all_mail:
        return all_mail[:1]
    scanned = {folders.sent, folders.drafts, folders.trash, *folders.watch}
    junk_by_flag = any("\\Junk" in flags for _name, flags in listing)
    out = []
    for name, flags in listing:
        if name in scanned or flags & _SKIP_FLAGS:
            continue
        if not junk_by_flag and name.lower() in _JUNK_NAMES:
            continue
        out.append(name)
    return out


def search_evidence(
    mailbox: Mailbox,
    relevance: Relevance,
    queries: tuple[EvidenceQuery, ...],
    folders: Folders,
    state: State,
    cached: list[MailMessage],
) -> Evidence:
    """Search each folder that changed for answers to `queries`; the messages found (with
    those found before and still cached), the new marks, and the requests covered."""
    evidence = Evidence()
    if not queries:  # nothing due, no draft waiting: no folder is asked anything
        evidence.marks = dict(state.meta.evidence)
        evidence.found = [m for m in cached if m.folder in evidence.marks]
        return evidence
    try:
        listing = mailbox.list_folders()
    except AssistantError as exc:
        log.warning("Could not list the folders to look for answers in (%s); no follow-up is written now", exc)
        return evidence
    everywhere = evidence_folders(listing, folders)
    targets = [*everywhere, *(f for f in thread_only_folders(listing, folders) if f not in everywhere)]
    thread_only = tuple(replace(q, people=()) for q in queries)
    keys = {q.key for q in queries}
    complete = True
    for folder in targets:
        asked = queries if folder in everywhere else thread_only
        mark = state.meta.evidence.get(folder)
        try:
            info = mailbox.examine(folder)
            same = mark is not None and mark.uidvalidity == info.uidvalidity
            before = set(mark.requests) if same and mark is not None else set()
            have = {m.uid for m in cached if m.folder == folder} if same else set()
            uids: set[int] = set()
            found: list[MailMessage] = []
            # A request whose query changed (a mentor's address added, the resident wrote again in
            # the thread) is new here: an answer filed long ago may match it now.
            known = tuple(q for q in asked if _token(q) in before)
            fresh = tuple(q for q in asked if _token(q) not in before)
            if known and mark is not None and info.uidnext > mark.uidnext:
                # Looked for here before: only what arrived since. A few new messages (the draft
                # just moved to Trash, a reply filed by a rule) are read whole, in one command.
                if info.uidnext - mark.uidnext <= READ_INSTEAD_OF_SEARCH:
                    arrived = [u for u in range(mark.uidnext, info.uidnext) if u not in have]
                    found, _bad = mailbox.fetch_headers(folder, arrived, functools.partial(_answer, relevance, known))
                else:
                    uids |= _search(mailbox, folder, known, after_uid=mark.uidnext - 1)
            if fresh:
                uids |= _search(mailbox, folder, fresh, after_uid=0)
            searched, _bad = mailbox.fetch_headers(folder, sorted(uids - have - {m.uid for m in found}), relevance.tied)
            found += searched
        except AssistantError as exc:
            log.warning("Could not look for answers in %s (%s); no follow-up is written now", folder, exc)
            complete = False
            if mark is not None:
                evidence.marks[folder] = mark
            continue
        evidence.found += [m for m in cached if m.folder == folder and same] + found
        # What was asked here (Trash and Junk: the thread-only form), so a quiet cycle asks nothing.
        evidence.marks[folder] = EvidenceMark(folder, info.uidvalidity, info.uidnext, tuple(sorted(map(_token, asked))))
        if found:
            log.info("Found %d message(s) about tracked requests in %s", len(found), folder)
    evidence.complete_for = frozenset(keys) if complete else frozenset()
    return evidence


def _answer(relevance: Relevance, queries: tuple[EvidenceQuery, ...], message: MailMessage) -> bool:
    return relevance.tied(message) and answers_any(message, queries)


def answers_any(message: MailMessage, queries: tuple[EvidenceQuery, ...]) -> bool:
    """What the server's SEARCH asks, asked of a message read: arrived since a request's day,
    and from one of its people or naming one of its Message-IDs."""
    ids = set(message.thread_ids)
    sender = message.sender.email if message.sender else ""
    day = message.arrived.date()
    return any(day >= q.since and (sender in q.people or not ids.isdisjoint(q.ids)) for q in queries)


def _token(query: EvidenceQuery) -> str:
    """A request as searched for: its key and what its answers look like."""
    what = repr((sorted(query.ids), sorted(query.people), query.since.isoformat()))
    return f"{query.key}#{hashlib.sha256(what.encode()).hexdigest()[:12]}"


def _search(mailbox: Mailbox, folder: str, queries: tuple[EvidenceQuery, ...], *, after_uid: int) -> set[int]:
    """A few requests per SEARCH: one command for most mailboxes, a bounded one for many requests."""
    found: set[int] = set()
    for start in range(0, len(queries), QUERIES_PER_SEARCH):
        found |= set(mailbox.search_evidence(folder, queries[start : start + QUERIES_PER_SEARCH], after_uid=after_uid))
    return found
