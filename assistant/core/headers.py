"""Parsing message headers into `MailMessage`, tested alone. Never raises on any bytes."""

from __future__ import annotations

import email.header
import email.utils
import re
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

from assistant.core.model import Address, MailMessage

# The header fields fetched for every message (BODY.PEEK[HEADER.FIELDS (...)]).
HEADER_FIELDS = (
    "Message-ID", "Date", "From", "To", "Cc", "Subject", "In-Reply-To", "References",
    "Auto-Submitted", "Return-Path", "Precedence", "List-Id", "List-Unsubscribe", "X-Autoreply",
    "X-Autorespond", "X-Auto-Response-Suppress", "X-Apple-Action", "X-MS-Exchange-Inbox-Rules-Loop",
    "X-Mentor-Assistant", "Content-Type", "Thread-Index", "X-Failed-Recipients", "Bcc",
    "Delivered-To", "X-Original-To", "Disposition-Notification-To",
)  # fmt: skip

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MSGID = re.compile(r"<[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def decode_header_value(value: str | None) -> str:
    """RFC 2047 decoded, unfolded, control characters removed."""
    if not value:
        return ""
    try:
        text = str(email.header.make_header(email.header.decode_header(str(value))))
    except (ValueError, LookupError, UnicodeError, AssertionError, TypeError):
        text = str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    return _CONTROL.sub("", text).strip()


def message_ids(value: str | None) -> tuple[str, ...]:
    """Every <id> in a Message-ID, In-Reply-To or References value, in order."""
    if not value:
        return ()
    return tuple(dict.fromkeys(_MSGID.findall(str(value))))


def normalize_message_id(value: str | None) -> str:
    """The single <id> of a Message-ID header, or "" when there is none."""
    ids = message_ids(value)
    if ids:
        return ids[0]
    text = (value or "").strip()
    if text and " " not in text and "@" in text:
        return f"<{text.strip('<>')}>"
    return ""


def parse_addresses(values: list[str] | None) -> tuple[Address, ...]:
    """Addresses from To/Cc/From header values, lower-cased, without invalid ones."""
    if not values:
        return ()
    out = []
    try:
        pairs = email.utils.getaddresses([str(v) for v in values])
    except (ValueError, TypeError, IndexError):
        return ()
    for name, addr in pairs:
        addr = _CONTROL.sub("", addr).strip().lower()
        if "@" not in addr or " " in addr:
            continue
        out.append(Address(decode_header_value(name), addr))
    return tuple(out)


def parse_date(value: str | None, fallback: datetime) -> datetime:
    """The Date header as an aware datetime, else `fallback` (the INTERNALDATE)."""
    if value:
        try:
            parsed = email.utils.parsedate_to_datetime(str(value))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            if 1990 < parsed.year < 2200:
                return parsed
        except (ValueError, TypeError, IndexError, OverflowError):
            pass
    return fallback if fallback.tzinfo else fallback.replace(tzinfo=UTC)


def parse_message(
    raw_headers: bytes,
    *,
    folder: str,
    uid: int,
    internaldate: datetime | None,
    flags: frozenset[str] = frozenset(),
    body: str | None = None,
) -> MailMessage:
    """A `MailMessage` from raw header bytes; garbage yields empty fields, not exceptions.

    `internaldate` is when the server received it; the Date header falls back to it (and
    to the Unix epoch when the server gave none).
    """
    try:
        msg = BytesHeaderParser(policy=compat32).parsebytes(raw_headers)
        items = [(str(k), v if isinstance(v, str) else str(v)) for k, v in msg.items()]
    except Exception:
        items = []

    def all_of(name: str) -> list[str]:
        return [v for k, v in items if k.lower() == name.lower()]

    def first(name: str) -> str | None:
        found = all_of(name)
        return found[0] if found else None

    headers = tuple((k.lower(), decode_header_value(v)) for k, v in items)
    senders = parse_addresses(all_of("From"))
    return MailMessage(
        folder=folder,
        uid=uid,
        message_id=normalize_message_id(first("Message-ID")),
        date=parse_date(first("Date"), internaldate or _EPOCH),
        subject=decode_header_value(first("Subject")),
        sender=senders[0] if senders else None,
        to=parse_addresses(all_of("To")),
        cc=parse_addresses(all_of("Cc")),
        in_reply_to=message_ids(first("In-Reply-To")),
        references=message_ids(" ".join(all_of("References"))),
        flags=flags,
        headers=headers,
        body=body,
        internaldate=internaldate,
    )


def strip_reply_prefixes(subject: str) -> str:
    """The subject without leading reply/forward prefixes in the common languages."""
    pattern = re.compile(
        r"^\s*(re|aw|sv|vs|antw|r|rif|odp|res|fw|fwd|wg|tr|回复|答复|回覆)\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*",
        re.IGNORECASE,
    )
    previous = None
    while previous != subject:
        previous = subject
        subject = pattern.sub("", subject)
    return subject.strip()
