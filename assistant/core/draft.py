"""The follow-up draft: a threaded, polite, specific reply the resident reviews and sends.

Templates come in as text (the shell loads them) and are rendered in Jinja2's sandbox.
Every header value that comes from mail or settings is stripped of control characters, so
a name or subject can never inject a header or break the MIME structure.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from assistant.core.headers import strip_reply_prefixes
from assistant.core.model import DRAFT_HEADER, Address, MailMessage
from assistant.core.settings import Me, Mentor
from assistant.core.templating import sandbox

NAMESPACE = uuid.UUID("6f1c1a52-8d1e-5c1b-9a57-3c0f5b1f7e21")
# Headers we write are never folded at 78 columns: a folded Subject shows a leading space
# in some clients. RFC 5322 allows lines up to 998 characters.
POLICY = SMTP.clone(max_line_length=998)
_THREAD_ID = re.compile(r"<[!-;=?-~]+>")  # a Message-ID as a plain ASCII token
_STRUCTURE = re.compile(r'[<>@,;:"\\()\[\]]|=\?|\?=')
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def sanitize(value: str, limit: int = 200) -> str:
    """A header-safe single line: no CR/LF or control characters, bounded length."""
    return _UNSAFE.sub(" ", value or "").strip()[:limit]


def request_id_for(message_id: str) -> str:
    """A request's stable id, derived from the Message-ID of the message that started it."""
    return str(uuid.uuid5(NAMESPACE, f"request:{message_id}"))[:13]


def draft_message_id(request_id: str, round_no: int, domain: str) -> str:
    """The Message-ID of our draft for one request and round: the same across crashes."""
    return f"<mentor-assistant.{draft_token(request_id, round_no)}@{sanitize(domain) or 'localhost'}>"


@functools.lru_cache(maxsize=4096)
def draft_token(request_id: str, round_no: int) -> str:
    """The part of our draft's Message-ID before the domain (computed once per request and round)."""
    return uuid.uuid5(NAMESPACE, f"draft:{request_id}:{round_no}").hex[:20]


def draft_header_value(request_id: str, round_no: int) -> str:
    return f"request={request_id}; round={round_no}"


def parse_draft_header(value: str) -> tuple[str, int] | None:
    """(request id, round) from our private header, or None."""
    match = re.match(r"^\s*request=([\w-]+);\s*round=(\d+)", value or "")
    return (match.group(1), int(match.group(2))) if match else None


_MINUTES = re.compile(r"\b(\d{1,3})[- ]?(?:minutes?|mins?)\b", re.IGNORECASE)


def meeting_minutes(text: str | None) -> int | None:
    """The length of meeting a message asked for ("20 minutes"), or None when it asked for none."""
    match = _MINUTES.search(text or "")
    return int(match.group(1)) if match and 0 < int(match.group(1)) <= 180 else None


def template_name(round_no: int, rounds: int) -> str:
    """Which template a round uses: followup-1, followup-2 (and later rounds), closing."""
    if round_no > rounds:
        return "closing.txt.j2"
    return f"followup-{min(round_no, 2)}.txt.j2"


@dataclass(frozen=True)
class DraftContext:
    """What a follow-up template may use."""

    me: Me
    mentor: Mentor | None
    recipient: Address
    subject: str
    sent_at: datetime
    round: int
    rounds: int
    closing: bool
    minutes: int | None = None  # the length of meeting the request asked for, asked for again


def render_body(templates: dict[str, str], name: str, ctx: DraftContext) -> str:
    """Render one template in the sandbox (no access to Python internals)."""
    env = sandbox(templates)
    mentor = ctx.mentor
    mentor_name = sanitize((mentor.name if mentor else ctx.recipient.name) or "")
    values = {
        "me": {"name": ctx.me.name, "email": ctx.me.email, "role": ctx.me.role},
        "mentor": {
            "name": mentor_name,
            "title": mentor.title if mentor else "",
            "salutation": salutation(mentor_name),
            "area": mentor.area if mentor else "",
            "project": mentor.project if mentor else "",
        },
        "subject": sanitize(strip_reply_prefixes(ctx.subject), 300),
        "sent_on": f"{ctx.sent_at:%B} {ctx.sent_at.day}",
        "round": ctx.round,
        "rounds": ctx.rounds,
        "closing": ctx.closing,
        "minutes": ctx.minutes,
    }
    text = env.get_template(name).render(**values)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# Letters after a name: degrees and post-nominals a directory lists ("Jane Smith, MD, PhD").
_DEGREES = frozenset(
    [
        "md",
        "do",
        "phd",
        "dphil",
        "mbbs",
        "mbchb",
        "mph",
        "msc",
        "ms",
        "ma",
        "mba",
        "mhs",
        "rn",
        "np",
        "pa",
        "pharmd",
        "facp",
        "facs",
        "frcp",
        "frcpc",
        "frcs",
        "faap",
        "facc",
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
    ]
)
_DOCTORS = frozenset({"md", "do", "phd", "dphil", "mbbs", "mbchb", "pharmd"})
# Particles that belong to a surname: "de la Cruz", "van der Berg".
_PARTICLES = frozenset(
    [
        "de",
        "del",
        "della",
        "der",
        "den",
        "la",
        "le",
        "van",
        "von",
        "da",
        "di",
        "du",
        "dos",
        "das",
        "ter",
        "ten",
        "bin",
        "ibn",
        "al",
        "el",
    ]
)


def salutation(name: str) -> str:
    """ "Dr. Smith" from "Dr. Jane Smith", "Jane Smith, MD" or "Dr. Jane Smith MD PhD";
    "Dr. de la Cruz" from "Dr. Juan de la Cruz"; the name itself otherwise; "" when unknown."""
    parts = name.replace(",", " ").split()
    if not parts:
        return ""
    title = ""
    if parts[0].lower().rstrip(".") in ("dr", "prof", "professor"):
        title = "Prof." if parts[0].lower().startswith("prof") else "Dr."
        parts = parts[1:]
    letters = []
    while parts and parts[-1].lower().replace(".", "") in _DEGREES:
        letters.append(parts.pop().lower().replace(".", ""))
    if not title and any(d in _DOCTORS for d in letters):
        title = "Dr."
    if not title or not parts:
        return name
    start = len(parts) - 1
    while start > 1 and parts[start - 1].lower() in _PARTICLES:
        start -= 1
    return f"{title} {' '.join(parts[start:])}"


def quote(text: str, sender: Address | None, sent_at: datetime) -> str:
    """The original under an attribution line, each line prefixed with "> "."""
    who = sender.formatted() if sender else "you"
    lines = text.rstrip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    hour = sent_at.hour % 12 or 12
    noon = "AM" if sent_at.hour < 12 else "PM"
    when = f"{sent_at:%a, %b} {sent_at.day}, {sent_at.year} at {hour}:{sent_at:%M} {noon}"
    return f"On {when}, {who} wrote:\n{quoted}\n"


def display_name(name: str) -> str:
    """A display name safe to write: one line, and none of the characters that give an
    address header structure (a name is only a courtesy; it never adds a recipient)."""
    return re.sub(r"\s+", " ", _STRUCTURE.sub(" ", sanitize(name))).strip()


def header_address(name: str, address: str) -> HeaderAddress:
    """An address for a header we write: exactly `address`, with a harmless display name."""
    local, _, domain = sanitize(address).partition("@")
    return HeaderAddress(display_name=display_name(name), username=local, domain=domain)


def _header_address(addr: Address) -> HeaderAddress:
    return header_address(addr.name, addr.email)


def compose_followup(
    *,
    templates: dict[str, str],
    ctx: DraftContext,
    request_id: str,
    last_sent: MailMessage,
    to: tuple[Address, ...],
    cc: tuple[Address, ...],
    message_id: str,
    now: datetime,
) -> bytes:
    """The whole draft as RFC 5322 bytes with CRLF line ends."""
    body = render_body(templates, template_name(ctx.round, ctx.rounds), ctx)
    original = last_sent.body if last_sent.body is not None else ""
    text = body + "\n" + quote(original, last_sent.sender, last_sent.date.astimezone(ctx.sent_at.tzinfo))
    msg = EmailMessage(policy=POLICY)
    # From the address the resident wrote from (an alias of theirs), so the thread stays one voice.
    sender = last_sent.sender
    own = sender.email if sender is not None and sender.email.lower() in ctx.me.addresses else ctx.me.email
    msg["From"] = _header_address(Address(ctx.me.name, own))
    msg["To"] = [_header_address(a) for a in to]
    if cc:
        msg["Cc"] = [_header_address(a) for a in cc]
    msg["Subject"] = "Re: " + sanitize(strip_reply_prefixes(ctx.subject), 900)
    msg["Date"] = format_datetime(now.astimezone(ctx.sent_at.tzinfo))
    msg["Message-ID"] = message_id
    msg.set_content(text, charset="utf-8")
    chain = [*last_sent.references, last_sent.message_id] if last_sent.references else [last_sent.message_id]
    raw = with_threading(msg.as_bytes(), last_sent.message_id, list(dict.fromkeys(i for i in chain if i)))
    return seal(raw, draft_header_value(request_id, ctx.round))


def _canonical(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


def seal(raw: bytes, value: str) -> bytes:
    """Add our private header, with a sum of everything else in the message: a draft of ours
    can then be known to be exactly as we wrote it from the message alone (after a lost state)."""
    digest = hashlib.sha256(_canonical(raw)).hexdigest()[:32]
    head, sep, body = raw.partition(b"\r\n\r\n")
    return head + f"\r\n{DRAFT_HEADER}: {value}; sum={digest}".encode("ascii") + sep + body


def intact(raw: bytes) -> bool:
    """Whether a message sealed by us is still exactly as we wrote it (every byte but our header)."""
    head, sep, body = _canonical(raw).partition(b"\n\n")
    lines = head.split(b"\n")
    ours = [i for i, line in enumerate(lines) if line.lower().startswith(DRAFT_HEADER.lower().encode() + b":")]
    if len(ours) != 1:
        return False
    match = re.search(rb"; sum=([0-9a-f]{32})\s*$", lines[ours[0]])
    if match is None:
        return False
    rest = b"\n".join(lines[: ours[0]] + lines[ours[0] + 1 :]) + sep + body
    return hashlib.sha256(rest).hexdigest()[:32] == match.group(1).decode()


def with_threading(raw: bytes, in_reply_to: str, references: list[str]) -> bytes:
    """The message with In-Reply-To and References written as plain ASCII tokens, folded
    between Message-IDs, never as encoded words (which would break threading)."""
    ids = [i for i in references if _THREAD_ID.fullmatch(i)]
    lines = []
    if _THREAD_ID.fullmatch(in_reply_to):
        lines.append(f"In-Reply-To: {in_reply_to}")
    if ids:
        lines.append("References: " + "\r\n ".join(ids))
    head, sep, body = raw.partition(b"\r\n\r\n")
    return head + b"".join(b"\r\n" + line.encode("ascii") for line in lines) + sep + body


def draft_fingerprint(raw: bytes) -> str:
    """The identity of a message exactly as we wrote it: its size and a hash of every byte.

    A draft is ours to remove only while the stored message has this fingerprint: any
    change by the resident (a word, a recipient, an attachment) makes it theirs.
    """
    return f"{len(raw)}:{hashlib.sha256(raw).hexdigest()}"
