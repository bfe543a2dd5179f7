"""Reading IMAP answers into plain data: quick readers for the two answers every cycle
gets, LIST and STATUS, and a FETCH item as a `MailMessage`.

A cycle where nothing changed is a LIST and a STATUS per folder, so reading those answers
is most of what the assistant itself adds to the server's time. These read the forms
servers send (quoted or atom names, a quoted or NIL delimiter, numbers in STATUS) and
give what imapclient's `list_folders` and `folder_status` give; any other form (a literal,
an unexpected token) returns None, and the caller asks imapclient instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from imapclient.imap_utf7 import decode as decode_utf7
from imapclient.imap_utf7 import encode as encode_utf7

from assistant.core.headers import parse_message
from assistant.core.model import MailMessage

# (flags) "delimiter"|NIL "name"|atom
_LIST_LINE = re.compile(
    rb'\(((?:\\?[^\s()"\\{]+(?: \\?[^\s()"\\{]+)*)?)\) '
    rb'(?:"((?:[^"\\]|\\["\\])?)"|(NIL)) '
    rb'(?:"((?:[^"\\\r\n]|\\["\\])*)"|([^\s()"\\{%*\]]+))\Z',
    re.IGNORECASE,
)
_STATUS_ITEMS = re.compile(rb"\(((?:[A-Za-z0-9.-]+ \d+(?: [A-Za-z0-9.-]+ \d+)*)?)\)\s*\Z")
_UNQUOTE = re.compile(rb'\\(["\\])')


def quoted_folder(name: str) -> bytes:
    """A folder name as a command argument: modified UTF-7, quoted."""
    raw: bytes = encode_utf7(name)
    return b'"' + raw.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def read_list(
    lines: list[Any], skipped: list[bytes] | None = None
) -> list[tuple[tuple[bytes, ...], bytes | None, str]] | None:
    """LIST answer lines as (flags, delimiter, name) like imapclient's `list_folders`, or None.

    A name that is not valid modified UTF-7 (made by a client that skipped the encoding) is
    left out and put in `skipped`: no command could name it, and imapclient would fail on
    the whole answer."""
    out: list[tuple[tuple[bytes, ...], bytes | None, str]] = []
    for line in lines:
        if line in (b"", None):
            continue
        if not isinstance(line, bytes):
            return None  # a literal: imapclient's parser reads it
        m = _LIST_LINE.match(line)
        if m is None:
            return None
        flags, delimiter, _nil, quoted, atom = m.groups()
        if quoted is not None:
            raw = _UNQUOTE.sub(rb"\1", quoted)
        else:
            raw = atom
            if raw.upper() == b"NIL":
                return None
        if not raw.isascii():
            return None  # 8-bit names: imapclient decodes them its own way
        try:
            name = decode_utf7(raw) if b"&" in raw else raw.decode("ascii")
        except UnicodeDecodeError:
            if skipped is not None:
                skipped.append(raw)
            continue
        out.append((tuple(flags.split(b" ")) if flags else (), delimiter and _UNQUOTE.sub(rb"\1", delimiter), name))
    return out


def read_status(lines: list[Any]) -> dict[bytes, int] | None:
    """The items of a STATUS answer like imapclient's `folder_status`, or None."""
    last = lines[-1] if lines else None
    if not isinstance(last, bytes):
        return None
    m = _STATUS_ITEMS.search(last)
    if m is None:
        return None
    words = m.group(1).split()
    return {words[i].upper(): int(words[i + 1]) for i in range(0, len(words), 2)}


def item_flags(item: dict[bytes, Any]) -> frozenset[str]:
    """The FLAGS of a parsed FETCH item, as text."""
    return frozenset(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in item.get(b"FLAGS", ()))


def to_message(folder: str, uid: int, item: dict[bytes, Any]) -> MailMessage:
    """A parsed FETCH response item (headers, FLAGS, INTERNALDATE, X-GM-THRID) as a message."""
    header = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"") or b""
    flags = item_flags(item)
    thrid = item.get(b"X-GM-THRID")
    internal = item.get(b"INTERNALDATE")
    arrived: datetime | None = None
    if isinstance(internal, datetime):
        arrived = internal if internal.tzinfo is not None else internal.replace(tzinfo=UTC)
    size = item.get(b"RFC822.SIZE")
    return parse_message(header, folder=folder, uid=int(uid), internaldate=arrived, flags=flags,
                         gm_thrid=str(thrid) if thrid is not None else None,
                         size=int(size) if isinstance(size, int) else None)  # fmt: skip
