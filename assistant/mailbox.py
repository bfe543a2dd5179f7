"""What the pipeline needs of a mailbox (`Mailbox`), and `open_mailbox` for the real one.

`snapshot.py` and `apply.py` talk to this protocol only; `adapters/imap.py` implements it
over IMAP, and the tests have an in-memory one for fast checks beside the Dovecot ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from assistant.config import Config
from assistant.core.model import Folders, MailMessage


@dataclass(frozen=True)
class FolderInfo:
    """What SELECT says about a folder: enough to tell whether anything changed."""

    uidvalidity: int
    uidnext: int
    highestmodseq: int | None  # None without CONDSTORE
    exists: int
    keywords_allowed: bool  # PERMANENTFLAGS has \\*


class Mailbox(Protocol):
    """One logged-in mailbox. Reads never set \\Seen; writes touch one message at a time."""

    def detect_folders(self) -> Folders: ...
    def examine(self, folder: str) -> FolderInfo: ...
    def uids_after(self, folder: str, last_uid: int) -> list[int]: ...
    def existing(self, folder: str, uids: list[int]) -> set[int]: ...
    def flags_changed_since(self, folder: str, modseq: int) -> dict[int, frozenset[str]]: ...
    def flags_of(self, folder: str, uids: list[int]) -> dict[int, frozenset[str]]: ...
    def search_since(self, folder: str, since: date) -> list[int]: ...
    def search_with_header(self, folder: str, name: str) -> list[int]: ...
    def search_addressed_to(self, folder: str, address: str, *, since: date, after_uid: int = 0) -> list[int]: ...
    def search_about(self, folder: str, message_id: str, people: tuple[str, ...], *, since: date) -> list[int]: ...
    def fetch_headers(
        self, folder: str, uids: list[int], keep: Callable[[MailMessage], bool] | None = None
    ) -> tuple[list[MailMessage], list[str]]: ...
    def fetch_bodies(self, folder: str, uids: list[int], cap: int = ...) -> dict[int, bytes]: ...
    def find_by_message_id(self, folder: str, message_id: str) -> list[int]: ...
    def add_flags(self, folder: str, uid: int, flags: tuple[str, ...]) -> None: ...
    def remove_flags(self, folder: str, uid: int, flags: tuple[str, ...]) -> None: ...
    def append(self, folder: str, raw: bytes, flags: tuple[str, ...], when: datetime) -> int | None: ...
    def fetch_raw(self, folder: str, uid: int) -> bytes | None: ...
    def delete(self, folder: str, uid: int) -> None: ...
    def close(self) -> None: ...


@contextmanager
def open_mailbox(config: Config) -> Iterator[Mailbox]:
    """Log in to the configured IMAP server (the password resolved here), and log out after."""
    from assistant.adapters import secrets
    from assistant.adapters.imap import ImapMailbox

    mail = config.mail
    box = ImapMailbox.connect(mail, secrets.resolve(mail.secret, username=mail.username, host=mail.host))
    try:
        yield box
    finally:
        box.close()
