"""An in-memory mailbox that speaks the `assistant.mailbox.Mailbox` protocol.

For fast tests of the snapshot and of apply; the same behaviours are tested against
Dovecot elsewhere. It counts what it is asked, so a test can check that a cycle with
nothing new fetches nothing.
"""

from __future__ import annotations

import email
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from email import policy

from assistant.core.headers import parse_message
from assistant.core.model import Folders, MailMessage
from assistant.core.relevance import EvidenceQuery
from assistant.mailbox import FolderInfo


@dataclass
class Stored:
    raw: bytes
    flags: set[str]
    arrived: datetime
    modseq: int


@dataclass
class Folder:
    name: str
    uidvalidity: int = 1
    uidnext: int = 1
    modseq: int = 1
    messages: dict[int, Stored] = field(default_factory=dict)


class FakeServer:
    """Folders of raw messages with UIDs, flags and MODSEQs, like an IMAP server's."""

    def __init__(self, *, keywords: bool = True, names: tuple[str, ...] = ("INBOX", "Sent", "Drafts", "Trash")):
        self.folders = {n: Folder(n) for n in names}
        self.keywords = keywords
        self.calls: Counter[str] = Counter()

    def deliver(self, folder: str, raw: bytes, *, when: datetime, flags: tuple[str, ...] = ()) -> int:
        f = self.folders[folder]
        uid = f.uidnext
        f.uidnext += 1
        f.modseq += 1
        f.messages[uid] = Stored(raw, set(flags), when, f.modseq)
        return uid

    def remove(self, folder: str, uid: int) -> None:
        del self.folders[folder].messages[uid]
        self.folders[folder].modseq += 1

    def set_flags(self, folder: str, uid: int, flags: set[str]) -> None:
        f = self.folders[folder]
        f.modseq += 1
        f.messages[uid].flags = set(flags)
        f.messages[uid].modseq = f.modseq

    def connect(self) -> FakeMailbox:
        return FakeMailbox(self)


def _header(raw: bytes) -> bytes:
    cut = min((i for i in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if i >= 0), default=len(raw))
    return raw[:cut] + b"\r\n\r\n"


class FakeMailbox:
    """One "connection" to a FakeServer."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.trash: str | None = "Trash"

    def _count(self, name: str) -> None:
        self.server.calls[name] += 1

    def _folder(self, name: str) -> Folder:
        return self.server.folders[name]

    def _message(self, folder: str, uid: int) -> MailMessage:
        stored = self._folder(folder).messages[uid]
        return parse_message(
            _header(stored.raw), folder=folder, uid=uid, internaldate=stored.arrived, flags=frozenset(stored.flags)
        )

    def detect_folders(self) -> Folders:
        self._count("detect_folders")
        return Folders(sent="Sent", drafts="Drafts", trash="Trash", watch=("INBOX",))

    def list_folders(self) -> tuple[tuple[str, frozenset[str]], ...]:
        self._count("list_folders")
        special = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk"}
        return tuple((n, frozenset({special[n]} if n in special else ())) for n in self.server.folders)

    def keywords_allowed(self, folder: str) -> bool:
        return self.server.keywords

    def examine(self, folder: str) -> FolderInfo:
        self._count("examine")
        f = self._folder(folder)
        return FolderInfo(f.uidvalidity, f.uidnext, f.modseq, len(f.messages))

    def search_evidence(self, folder: str, queries: tuple[EvidenceQuery, ...], *, after_uid: int = 0) -> list[int]:
        self._count("search_evidence")
        found = []
        for uid, m in self._folder(folder).messages.items():
            if uid <= after_uid:
                continue
            msg = self._parsed(folder, uid)
            threads = f"{msg['In-Reply-To'] or ''} {msg['References'] or ''}"
            sender = str(msg["From"] or "").lower()
            for query in queries:
                by_person = any(p in sender for p in query.people)
                if m.arrived.date() >= query.since and (by_person or any(i in threads for i in query.ids)):
                    found.append(uid)
                    break
        return sorted(found)

    def uids_after(self, folder: str, last_uid: int) -> list[int]:
        self._count("uids_after")
        return sorted(u for u in self._folder(folder).messages if u > last_uid)

    def existing(self, folder: str, uids: list[int]) -> set[int]:
        self._count("existing")
        return {u for u in uids if u in self._folder(folder).messages}

    def flags_changed_since(self, folder: str, modseq: int) -> dict[int, frozenset[str]]:
        self._count("flags_changed_since")
        return {u: frozenset(m.flags) for u, m in self._folder(folder).messages.items() if m.modseq > modseq}

    def flags_of(self, folder: str, uids: list[int]) -> dict[int, frozenset[str]]:
        self._count("flags_of")
        messages = self._folder(folder).messages
        return {u: frozenset(messages[u].flags) for u in uids if u in messages}

    def search_since(self, folder: str, since: date) -> list[int]:
        self._count("search_since")
        return sorted(u for u, m in self._folder(folder).messages.items() if m.arrived.date() >= since)

    def _parsed(self, folder: str, uid: int) -> email.message.Message:
        return email.message_from_bytes(self._folder(folder).messages[uid].raw, policy=policy.compat32)

    def search_with_header(self, folder: str, name: str) -> list[int]:
        self._count("search_with_header")
        return sorted(
            u for u, m in self._folder(folder).messages.items()
            if self._parsed(folder, u)[name] is not None and "\\Deleted" not in m.flags
        )  # fmt: skip

    def search_addressed_to(self, folder: str, address: str, *, since: date, after_uid: int = 0) -> list[int]:
        self._count("search_addressed_to")
        found = []
        for uid, m in self._folder(folder).messages.items():
            msg = self._parsed(folder, uid)
            fields = " ".join(str(msg[h] or "") for h in ("To", "Cc", "Delivered-To", "X-Original-To")).lower()
            if uid > after_uid and m.arrived.date() >= since and address.lower() in fields:
                found.append(uid)
        return sorted(found)

    def search_about(self, folder: str, message_id: str, people: tuple[str, ...], *, since: date) -> list[int]:
        self._count("search_about")
        found = []
        for uid, m in self._folder(folder).messages.items():
            msg = self._parsed(folder, uid)
            threads = f"{msg['In-Reply-To'] or ''} {msg['References'] or ''}"
            sender = str(msg["From"] or "").lower()
            if message_id in threads or (m.arrived.date() >= since and any(p in sender for p in people)):
                found.append(uid)
        return sorted(found)

    def fetch_headers(
        self, folder: str, uids: list[int], keep: Callable[[MailMessage], bool] | None = None, *, sizes: bool = False
    ) -> tuple[list[MailMessage], list[str]]:
        self._count("fetch_headers")
        self.server.calls["headers_fetched"] += len(uids)
        out = [self._message(folder, u) for u in uids if u in self._folder(folder).messages]
        return [m for m in out if keep is None or keep(m)], []

    def fetch_bodies(self, folder: str, uids: list[int], cap: int = 256 * 1024) -> dict[int, bytes]:
        self._count("fetch_bodies")
        self.server.calls["bodies_fetched"] += len(uids)
        messages = self._folder(folder).messages
        return {u: messages[u].raw[:cap] for u in uids if u in messages}

    def search_letter(self, folder: str, to: str, subject: str, *, since: date | None) -> list[int]:
        self._count("search_letter")
        found = []
        for uid, m in self._folder(folder).messages.items():
            msg = self._parsed(folder, uid)
            addressed = to.lower() in str(msg["To"] or "").lower()
            titled = subject.lower() in str(msg["Subject"] or "").lower()
            if addressed and titled and (since is None or m.arrived.date() >= since):
                found.append(uid)
        return sorted(found)

    def find_by_message_id(self, folder: str, message_id: str) -> list[int]:
        self._count("find_by_message_id")
        return sorted(u for u in self._folder(folder).messages if self._parsed(folder, u)["Message-ID"] == message_id)

    def add_flags(self, folder: str, uid: int, flags: tuple[str, ...]) -> None:
        self._count("add_flags")
        stored = self._folder(folder).messages[uid]
        self.server.set_flags(folder, uid, stored.flags | set(flags))

    def remove_flags(self, folder: str, uid: int, flags: tuple[str, ...]) -> None:
        self._count("remove_flags")
        stored = self._folder(folder).messages[uid]
        self.server.set_flags(folder, uid, stored.flags - set(flags))

    def append(self, folder: str, raw: bytes, flags: tuple[str, ...], when: datetime) -> int | None:
        self._count("append")
        return self.server.deliver(folder, raw, when=when, flags=flags)

    def fetch_raw(self, folder: str, uid: int) -> bytes | None:
        self._count("fetch_raw")
        stored = self._folder(folder).messages.get(uid)
        return stored.raw if stored else None

    def fetch_flags(self, folder: str, uid: int) -> frozenset[str] | None:
        stored = self._folder(folder).messages.get(uid)
        return frozenset(stored.flags) if stored else None

    def delete(self, folder: str, uid: int) -> None:
        self._count("delete")
        stored = self._folder(folder).messages.get(uid)
        if stored is None:
            return
        if self.trash:
            self.server.deliver(self.trash, stored.raw, when=stored.arrived, flags=tuple(stored.flags))
        self.server.remove(folder, uid)

    def close(self) -> None:
        self._count("close")
