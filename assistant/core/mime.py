"""Reading the text out of a whole message, never raising on any bytes."""

from __future__ import annotations

import email
import functools
import html
import re
from email.message import Message
from email.policy import compat32

_TAGS = re.compile(r"<[^>]+>")


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    # The declared charset; else UTF-8; and when the bytes are not that, Windows-1252 (a
    # superset of ISO-8859-1 that legacy Western mail really uses), never a row of U+FFFD.
    for charset in (part.get_content_charset(), "utf-8"):
        if charset:
            try:
                return payload.decode(charset)
            except (LookupError, UnicodeDecodeError):
                continue
    return payload.decode("cp1252", errors="replace")


@functools.lru_cache(maxsize=64)  # asked of the same message several times a cycle, and every cycle
def plain_text(raw: bytes) -> str:
    """The first text/plain part (or text/html turned into text), CRLF as LF."""
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
        html_text = ""
        for part in msg.walk():
            if part.is_multipart() or part.get_filename():
                continue
            ctype = part.get_content_type()
            if ctype == "text/plain":
                return _decode(part).replace("\r\n", "\n")
            if ctype == "text/html" and not html_text:
                html_text = _decode(part)
        if html_text:
            text = re.sub(r"(?i)<br\s*/?>|</p>", "\n", html_text)
            return html.unescape(_TAGS.sub("", text)).replace("\r\n", "\n").strip()
    except Exception:
        return ""
    return ""


def header_of(raw: bytes, name: str) -> str:
    """One header's raw value from a whole message, or ""."""
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
        return str(msg.get(name, "") or "")
    except Exception:
        return ""


@functools.lru_cache(maxsize=64)  # asked of the same message several times a cycle, and every cycle
def calendar_method(raw: bytes) -> str:
    """The METHOD of a text/calendar part ("REQUEST", "REPLY"…), upper-case, or ""."""
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
        for part in msg.walk():
            if part.get_content_type() != "text/calendar":
                continue
            method = str(part.get_param("method") or "")
            if not method:
                match = re.search(r"(?m)^METHOD:\s*(\S+)", _decode(part))
                method = match.group(1) if match else ""
            return method.strip().upper()
    except Exception:
        return ""
    return ""
