"""IMAP through imapclient: reading headers, flags, drafts. Never marks anything read.

Reads use EXAMINE (read-only) and BODY.PEEK; writes select the folder read-write only for
the one command. Library and socket errors are mapped into `assistant.errors`.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import imapclient
from imapclient.exceptions import IMAPClientError
from imapclient.imapclient import DRAFTS, SENT, TRASH

from assistant.adapters.imap_answers import item_flags, quoted_folder, read_list, read_status, to_message
from assistant.adapters.imap_login import log_out, login
from assistant.config import MailSettings
from assistant.core.headers import HEADER_FIELDS
from assistant.core.model import Folders, MailMessage
from assistant.core.relevance import EvidenceQuery
from assistant.errors import ConfigError, TempFailError
from assistant.mailbox import FolderInfo

log = logging.getLogger(__name__)

BATCH = 500
BODY_CAP = 256 * 1024
_FALLBACK = {
    SENT: ("Sent", "Sent Items", "Sent Messages", "Sent Mail", "[Gmail]/Sent Mail", "INBOX.Sent", "INBOX/Sent"),
    DRAFTS: ("Drafts", "Draft", "[Gmail]/Drafts", "INBOX.Drafts", "INBOX/Drafts"),
    TRASH: ("Trash", "Deleted Items", "Deleted Messages", "[Gmail]/Trash", "INBOX.Trash", "INBOX/Trash"),
}
# Whether a server lets us set our own keywords, by (host, port, username, folder).
_KEYWORDS: dict[tuple[str, int, str, str], bool] = {}
_UNNAMEABLE: set[bytes] = set()  # folder names already warned about, once per process
_APPENDUID = re.compile(rb"APPENDUID\s+(\d+)\s+(\d+)", re.IGNORECASE)
_STATUS_ITEMS = ("UIDVALIDITY", "UIDNEXT", "MESSAGES", "HIGHESTMODSEQ")
_HEADER_ITEM = "BODY.PEEK[HEADER.FIELDS ({})]".format(" ".join(f.upper() for f in HEADER_FIELDS))


class ImapMailbox:
    """One logged-in IMAP connection."""

    def __init__(self, client: imapclient.IMAPClient, settings: MailSettings) -> None:
        self.client = client
        self.settings = settings
        self._selected: tuple[str, bool] | None = None
        caps = set(client.capabilities())
        self.condstore = b"CONDSTORE" in caps
        self.gmail = b"X-GM-EXT-1" in caps
        self.trash: str | None = settings.trash_folder  # detect_folders() fills it in
        self._listing: list[tuple[Any, Any, Any]] | None = None  # one LIST per connection (a cycle)
        if self.condstore:
            try:
                client.enable("CONDSTORE")  # so EXAMINE reports HIGHESTMODSEQ
            except (IMAPClientError, OSError):
                self.condstore = False

    # ------------------------------------------------------------------ connection

    @classmethod
    def connect(cls, settings: MailSettings, password: str) -> ImapMailbox:
        """Connect and log in; raise UnavailableError or AuthenticationError."""
        return cls(login(settings, password), settings)

    def close(self, wait: float | None = None) -> None:
        """Log out. With `wait`, wait that long at most for the server's answer: a
        connection that may be dead (a laptop that slept, another network) is not waited
        on for the full read timeout."""
        log_out(self.client, wait=wait)

    def answers_within(self, seconds: float) -> bool:
        """Whether the connection still answers (a NOOP, waited for `seconds` at most)."""
        sock = self.client.socket()
        before = sock.gettimeout()
        try:
            sock.settimeout(seconds)
            self.client.noop()
            return True
        except (OSError, IMAPClientError):
            return False
        finally:
            with contextlib.suppress(OSError):
                sock.settimeout(before)

    def end_cycle(self) -> bool:
        """Leave the connection as a fresh login would be, for the next cycle: no folder
        open (UNSELECT; never CLOSE, which would expunge what the resident marked deleted)
        and LIST asked again. False when that cannot be done: the caller closes it then."""
        self._listing = None
        if self._selected is not None:
            if b"UNSELECT" not in self.client.capabilities():
                return False
            try:
                self.client.unselect_folder()
            except (OSError, IMAPClientError):
                return False
            self._selected = None
        return True

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except TimeoutError as exc:
            raise TempFailError(f"IMAP {what} timed out: {exc}") from None
        except (OSError, IMAPClientError) as exc:
            raise TempFailError(f"IMAP {what} failed: {exc}") from None
        except ValueError as exc:  # an answer imapclient cannot read (a name that does not decode…)
            raise TempFailError(f"IMAP {what}: the server's answer could not be read: {exc}") from None

    def _select(self, folder: str, *, readonly: bool, force: bool = False) -> dict[bytes, Any]:
        if not force and self._selected == (folder, readonly):
            return {}
        with self._errors(f"select {folder}"):
            info: dict[bytes, Any] = self.client.select_folder(folder, readonly=readonly)
        self._selected = (folder, readonly)
        return info

    # ------------------------------------------------------------------ folders

    def _list(self) -> list[tuple[Any, Any, Any]]:
        if self._listing is None:
            with self._errors("LIST"):
                # imaplib's own LIST, read by `read_list`; imapclient reads any unusual answer.
                typ, lines = self.client._imap.list('""', '"*"')
                if typ != "OK":
                    raise IMAPClientError(f"LIST failed: {lines!r}")
                skipped: list[bytes] = []
                listing = read_list(lines, skipped)
                for raw in skipped:
                    if raw not in _UNNAMEABLE:
                        _UNNAMEABLE.add(raw)
                        log.warning(
                            "The folder %r has a name that is not valid IMAP (modified UTF-7); it is left "
                            "out: rename it in your mail client to have it searched",
                            raw,
                        )
                self._listing = listing if listing is not None else list(self.client.list_folders())
        return self._listing

    def _status(self, folder: str) -> dict[bytes, int]:
        """STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ), read by `read_status` (imapclient
        reads any unusual answer)."""
        with self._errors(f"STATUS of {folder}"):
            typ, lines = self.client._imap.status(quoted_folder(folder), f"({' '.join(_STATUS_ITEMS)})")
            if typ != "OK":
                raise IMAPClientError(f"STATUS failed: {lines!r}")
            status = read_status(lines)
            if status is None:
                status = {k.upper(): int(v) for k, v in self.client.folder_status(folder, _STATUS_ITEMS).items()}
        return status

    def detect_folders(self) -> Folders:
        """Sent, Drafts and Trash by SPECIAL-USE, then by common names; config overrides."""
        listing = self._list()
        names = [str(name) for _flags, _sep, name in listing]
        by_flag: dict[bytes, str] = {}
        for flags, _sep, name in listing:
            for flag in flags:
                by_flag.setdefault(flag.lower() if isinstance(flag, bytes) else flag, str(name))
        lower = {n.lower(): n for n in names}

        def find(kind: bytes, override: str | None, key: str, required: bool) -> str | None:
            if override:
                if override not in names:
                    raise ConfigError([f"mail.{key}: the folder {override!r} does not exist on the server"])
                return override
            if kind.lower() in by_flag:
                return by_flag[kind.lower()]
            for candidate in _FALLBACK[kind]:
                if candidate.lower() in lower:
                    return lower[candidate.lower()]
            if required:
                raise ConfigError(
                    [f"mail.{key}: no {kind.decode().strip(chr(92))} folder found; set mail.{key} to its name"]
                )
            return None

        sent = find(SENT, self.settings.sent_folder, "sent_folder", True)
        drafts = find(DRAFTS, self.settings.drafts_folder, "drafts_folder", True)
        trash = find(TRASH, self.settings.trash_folder, "trash_folder", False)
        missing = [w for w in self.settings.watch if w not in names and w.upper() != "INBOX"]
        if missing:
            raise ConfigError([f"mail.watch: the folder {m!r} does not exist on the server" for m in missing])
        assert sent is not None and drafts is not None
        self.trash = trash
        return Folders(sent=sent, drafts=drafts, trash=trash, watch=self.settings.watch)

    def list_folders(self) -> tuple[tuple[str, frozenset[str]], ...]:
        """Every folder with its flags (\\Noselect, SPECIAL-USE…), as LIST shows them."""
        listing = self._list()
        return tuple(
            (str(name), frozenset(f.decode() if isinstance(f, bytes) else str(f) for f in flags))
            for flags, _sep, name in listing
        )

    def keywords_allowed(self, folder: str) -> bool:
        """True when PERMANENTFLAGS allows new keywords (\\*); Office 365 does not.

        Read from SELECT: EXAMINE answers with no PERMANENTFLAGS at all (Dovecot, Cyrus).
        SELECT alone changes nothing in the folder.
        """
        key = (self.settings.host, self.settings.port, self.settings.username, folder)
        if key not in _KEYWORDS:  # asked once per process: a server's flag policy does not change
            info = self._select(folder, readonly=False, force=True)
            _KEYWORDS[key] = b"\\*" in info.get(b"PERMANENTFLAGS", ())
        return _KEYWORDS[key]

    def search_evidence(self, folder: str, queries: tuple[EvidenceQuery, ...], *, after_uid: int = 0) -> list[int]:
        """UIDs (above `after_uid`) of messages from the queries' people since their day, or
        naming one of their Message-IDs in In-Reply-To or References: one SEARCH."""
        terms: list[list[Any]] = []
        for query in queries:
            mine: list[list[Any]] = [["FROM", p] for p in query.people]
            for mid in query.ids:
                mine += [["HEADER", "In-Reply-To", mid], ["HEADER", "References", mid]]
            if mine:
                # SINCE first: the server reads the headers of recent mail only, not of years of archive.
                terms.append(["SINCE", query.since, _any_of(mine)])
        if not terms:
            return []
        tree = _any_of(terms)
        self._select(folder, readonly=True)
        with self._errors(f"SEARCH in {folder}"):
            found = self.client.search(["UID", f"{after_uid + 1}:*", *tree])
        return sorted(int(u) for u in found if int(u) > after_uid)

    def examine(self, folder: str) -> FolderInfo:
        """UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ and EXISTS of a folder (read-only).

        With CONDSTORE one STATUS says it all without opening the folder (cheaper for the
        server than EXAMINE, the usual case of a cycle where nothing changed); else, and for
        the folder already open (STATUS is not for that one), EXAMINE."""
        if self.condstore and (self._selected is None or self._selected[0] != folder):
            status = self._status(folder)
            return FolderInfo(
                uidvalidity=int(status.get(b"UIDVALIDITY", 0)),
                uidnext=int(status.get(b"UIDNEXT", 0)),
                highestmodseq=int(status[b"HIGHESTMODSEQ"]) if b"HIGHESTMODSEQ" in status else None,
                exists=int(status.get(b"MESSAGES", 0)),
            )
        info = self._select(folder, readonly=True, force=True)
        modseq = info.get(b"HIGHESTMODSEQ")
        return FolderInfo(
            uidvalidity=int(info.get(b"UIDVALIDITY", 0)),
            uidnext=int(info.get(b"UIDNEXT", 0)),
            highestmodseq=int(modseq) if modseq is not None and self.condstore else None,
            exists=int(info.get(b"EXISTS", 0)),
        )

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        """UIDs greater than `last_uid`."""
        self._select(folder, readonly=True)
        with self._errors(f"SEARCH in {folder}"):
            found = self.client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(int(u) for u in found if int(u) > last_uid)

    def existing(self, folder: str, uids: list[int]) -> set[int]:
        """Which of `uids` are still in the folder."""
        if not uids:
            return set()
        self._select(folder, readonly=True)
        with self._errors(f"SEARCH in {folder}"):
            found = self.client.search(["UID", ",".join(str(u) for u in sorted(uids))])
        return {int(u) for u in found}

    def flags_changed_since(self, folder: str, modseq: int) -> dict[int, frozenset[str]]:
        """Flags of every message changed after `modseq` (CONDSTORE)."""
        self._select(folder, readonly=True)
        with self._errors(f"SEARCH MODSEQ in {folder}"):
            changed = [int(u) for u in self.client.search(["MODSEQ", str(modseq + 1)])]
        return self.flags_of(folder, changed)

    def flags_of(self, folder: str, uids: list[int]) -> dict[int, frozenset[str]]:
        """Current flags of these messages."""
        if not uids:
            return {}
        self._select(folder, readonly=True)
        with self._errors(f"FETCH FLAGS in {folder}"):
            data = self.client.fetch(sorted(uids), ["FLAGS"])
        return {int(uid): item_flags(item) for uid, item in data.items()}

    # ------------------------------------------------------------------ reading

    def search_since(self, folder: str, since: date) -> list[int]:
        """UIDs of the messages that arrived on or after `since`."""
        self._select(folder, readonly=True)
        with self._errors(f"SEARCH in {folder}"):
            return sorted(int(u) for u in self.client.search(["SINCE", since]))

    def search_with_header(self, folder: str, name: str) -> list[int]:
        """UIDs of the messages that carry header `name` at all."""
        self._select(folder, readonly=True)
        with self._errors(f"SEARCH in {folder}"):
            return sorted(int(u) for u in self.client.search(["UNDELETED", "HEADER", name, ""]))

    def search_addressed_to(self, folder: str, address: str, *, since: date, after_uid: int = 0) -> list[int]:
        """UIDs (above `after_uid`) of messages naming `address` in To, Cc, Delivered-To or X-Original-To."""
        self._select(folder, readonly=True)
        criteria = ["UID", f"{after_uid + 1}:*", "SINCE", since, "OR", "OR", "TO", address, "CC", address,
                    "OR", "HEADER", "Delivered-To", address, "HEADER", "X-Original-To", address]  # fmt: skip
        with self._errors(f"SEARCH in {folder}"):
            return sorted(int(u) for u in self.client.search(criteria))

    def search_letter(self, folder: str, to: str, subject: str, *, since: date | None) -> list[int]:
        """UIDs of messages to `to` whose Subject contains `subject` (arrived on or after `since`)."""
        self._select(folder, readonly=True, force=True)  # see messages appended a moment ago
        criteria: list[Any] = ["TO", to, "SUBJECT", subject, *(["SINCE", since] if since else [])]
        with self._errors(f"SEARCH in {folder}"):
            return sorted(int(u) for u in self.client.search(criteria))

    def search_about(self, folder: str, message_id: str, people: tuple[str, ...], *, since: date) -> list[int]:
        """UIDs of messages that name `message_id` in their thread headers, or come from `people`."""
        self._select(folder, readonly=True)
        found: set[int] = set()
        with self._errors(f"SEARCH in {folder}"):
            found |= set(
                self.client.search(["OR", "HEADER", "In-Reply-To", message_id, "HEADER", "References", message_id])
            )
            for person in people:
                found |= set(self.client.search(["FROM", person, "SINCE", since]))
        return sorted(int(u) for u in found)

    def fetch_headers(
        self, folder: str, uids: list[int], keep: Callable[[MailMessage], bool] | None = None, *, sizes: bool = False
    ) -> tuple[list[MailMessage], list[str]]:
        """Headers, flags and dates of these messages (and their sizes, asked only where they
        are needed: some servers read the whole message for it); malformed ones are skipped and logged.

        `keep` filters batch by batch, so a first scan of a large folder holds only the
        messages that matter, not all of them.
        """
        messages: list[MailMessage] = []
        skipped: list[str] = []
        if not uids:
            return messages, skipped
        self._select(folder, readonly=True)
        for start in range(0, len(uids), BATCH):
            batch = uids[start : start + BATCH]
            items = [_HEADER_ITEM, "FLAGS", "INTERNALDATE", *(["RFC822.SIZE"] if sizes else []),
                     *(["X-GM-THRID"] if self.gmail else [])]  # fmt: skip
            with self._errors(f"FETCH in {folder}"):
                data = self.client.fetch(batch, items)
            for uid, item in data.items():
                try:
                    message = to_message(folder, uid, item)
                    if keep is None or keep(message):
                        messages.append(message)
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    log.warning("Skipped malformed message UID %s in %s: %s", uid, folder, exc)
                    skipped.append(f"message UID {uid} in {folder} could not be read ({exc}); skipped")
        return messages, skipped

    def fetch_bodies(self, folder: str, uids: list[int], cap: int = BODY_CAP) -> dict[int, bytes]:
        """The first `cap` bytes of each message, without setting \\Seen."""
        if not uids:
            return {}
        self._select(folder, readonly=True)
        out: dict[int, bytes] = {}
        for start in range(0, len(uids), BATCH):
            with self._errors(f"FETCH bodies in {folder}"):
                data = self.client.fetch(uids[start : start + BATCH], [f"BODY.PEEK[]<0.{cap}>"])
            for uid, item in data.items():
                body = next((v for k, v in item.items() if k.startswith(b"BODY[")), None)
                if isinstance(body, bytes):
                    out[uid] = body
        return out

    def find_by_message_id(self, folder: str, message_id: str) -> list[int]:
        """UIDs in `folder` whose Message-ID header is `message_id`."""
        self._select(folder, readonly=True, force=True)  # see messages appended a moment ago
        with self._errors(f"SEARCH in {folder}"):
            found = self.client.search(["HEADER", "Message-ID", message_id])
        return sorted(int(u) for u in found)

    # ------------------------------------------------------------------ writing

    def add_flags(self, folder: str, uid: int, flags: tuple[str, ...]) -> None:
        self._select(folder, readonly=False)
        with self._errors(f"STORE in {folder}"):
            self.client.add_flags([uid], list(flags), silent=True)

    def remove_flags(self, folder: str, uid: int, flags: tuple[str, ...]) -> None:
        self._select(folder, readonly=False)
        with self._errors(f"STORE in {folder}"):
            self.client.remove_flags([uid], list(flags), silent=True)

    def append(self, folder: str, raw: bytes, flags: tuple[str, ...], when: datetime) -> int | None:
        """APPEND a message; returns its UID when the server reports APPENDUID."""
        with self._errors(f"APPEND to {folder}"):
            response = self.client.append(folder, raw, flags=list(flags), msg_time=when)
        match = _APPENDUID.search(response if isinstance(response, bytes) else str(response).encode())
        return int(match.group(2)) if match else None

    def fetch_raw(self, folder: str, uid: int) -> bytes | None:
        """The whole message by UID (PEEK), or None when it is gone."""
        found = self.fetch_bodies(folder, [uid], cap=16 * 1024 * 1024)
        return found.get(uid)

    def fetch_flags(self, folder: str, uid: int) -> frozenset[str] | None:
        """The flags of one message right now, or None when it is gone."""
        self._select(folder, readonly=True, force=True)
        with self._errors(f"FETCH FLAGS in {folder}"):
            data = self.client.fetch([uid], ["FLAGS"])
        return item_flags(data[uid]) if uid in data else None

    def delete(self, folder: str, uid: int) -> None:
        """Remove exactly one message of ours, into Trash where there is one, so that even a
        mistake can be undone: UID MOVE, else COPY then UID EXPUNGE of that UID only.

        Without a Trash it is expunged by UID (UIDPLUS). A plain EXPUNGE would also remove
        other messages the resident marked deleted, so without UIDPLUS (and no MOVE) the
        message is left alone.
        """
        caps = set(self.client.capabilities())
        self._select(folder, readonly=False, force=True)
        trash = self.trash if self.trash and self.trash != folder else None
        with self._errors(f"removing a draft from {folder}"):
            if trash and b"MOVE" in caps:
                self.client.move([uid], trash)
            elif b"UIDPLUS" in caps:
                if trash:
                    self.client.copy([uid], trash)
                self.client.add_flags([uid], [b"\\Deleted"], silent=True)
                self.client.uid_expunge([uid])
            elif trash and self.gmail:
                self.client.copy([uid], trash)  # Gmail: a copy in Trash removes it from Drafts
            else:
                raise TempFailError(f"the server supports neither MOVE nor UIDPLUS; left UID {uid} in {folder}")


def _any_of(terms: list[list[Any]]) -> list[Any]:
    """One search key matching any of `terms` (nested ORs)."""
    tree: list[Any] = terms[-1]
    for term in reversed(terms[:-1]):
        tree = ["OR", term, tree]
    return tree
