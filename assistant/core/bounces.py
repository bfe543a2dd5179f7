"""Delivery reports: did a message fail for good, or is it only delayed, and which one?

RFC 3464 reports are read part by part (also when the report-type parameter is missing);
the many non-standard formats are left to flufl.bounce, and a last look at the text
catches the plain "could not be delivered" notices. The original Message-ID is taken
from the returned headers, so the report can be tied to the request it is about.
"""

from __future__ import annotations

import email
import functools
import json
import re
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32

from flufl.bounce import all_failures

from assistant.core.mime import plain_text

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_MSGID_LINE = re.compile(r"^\s*Message-I[Dd]\s*:\s*(<[^<>\s]+>)", re.MULTILINE)
_ADDRESS = re.compile(r"[\w.+'=-]+@[\w-]+(?:\.[\w-]+)+")
_FAILURE_TEXT = re.compile(
    r"(could not be delivered|couldn't be delivered|delivery (has )?failed|undeliverable|"
    r"permanent(ly)? (error|failure)|user unknown|unknown user|no such (user|mailbox|recipient)|"
    r"mailbox (unavailable|not found|is full)|recipient address rejected|address rejected|"
    r"the following addresses? (had|failed)|message was not delivered|returned mail|"
    r"delivery status notification \(failure\)|not member|does not exist|"
    r"メールエラー|配信できません|送信できません|宛先不明)",
    re.IGNORECASE,
)
_DELAY_TEXT = re.compile(
    r"(delivery (is )?delayed|has been delayed|not yet been delivered|will (continue to )?retry|"
    r"warning: message .* delayed|temporar(y|ily) (failure|unavailable))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery report says about one message we sent."""

    permanent: bool  # True: failed for good; False: delayed, still being tried
    recipients: tuple[str, ...]  # the addresses it is about, lower-cased
    original_message_id: str  # the Message-ID of the message that failed, or ""
    status: str  # an enhanced status code like 5.1.1, or ""
    how: str  # which reading found it, for `why`


@functools.lru_cache(maxsize=64)  # asked of the same message several times a cycle, and every cycle
def parse_delivery_report(raw: bytes, *, heuristics: bool = True) -> DeliveryReport | None:
    """Read a delivery report; None when `raw` is not one. Never raises.

    Only structured reports are read unless `heuristics`: the text guesses are for
    machine-made mail, never for a message a person wrote.
    """
    try:
        msg = email.message_from_bytes(raw, policy=compat32)
    except Exception:
        return None
    original = _original_message_id(msg, raw)
    report = _from_dsn_part(msg, original)
    if report is not None:
        return report
    report = _from_amazon_ses(msg, original)
    if report is not None or not heuristics:
        return report
    return _from_heuristics(msg, raw, original)


def _dsn_part(msg: Message) -> Message | None:
    for part in msg.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            return part
    return None


def _from_dsn_part(msg: Message, original: str) -> DeliveryReport | None:
    part = _dsn_part(msg)
    if part is None:
        return None
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        blocks = [email.message_from_string(str(blocks), policy=compat32)]
    actions: list[str] = []
    statuses: list[str] = []
    recipients: list[str] = []
    for block in blocks:
        if not isinstance(block, Message):
            continue
        action = str(block.get("Action", "")).strip().lower()
        status_match = _STATUS.search(str(block.get("Status", "")))
        if action:
            actions.append(action)
        if status_match:
            statuses.append(status_match.group(0))
        for field in ("Final-Recipient", "Original-Recipient"):
            value = str(block.get(field, ""))
            found = _ADDRESS.search(value.split(";", 1)[-1])
            if found and (action or status_match):
                recipients.append(found.group(0).lower())
    if not actions and not statuses:
        return None
    permanent = "failed" in actions or any(s.startswith("5") for s in statuses)
    delayed = "delayed" in actions or any(s.startswith("4") for s in statuses)
    if not permanent and not delayed:
        return None  # "delivered", "relayed", "expanded": not a failure
    status = next((s for s in statuses if s[0] == ("5" if permanent else "4")), statuses[0] if statuses else "")
    return DeliveryReport(permanent, tuple(dict.fromkeys(recipients)), original, status, "a delivery-status report")


def _from_amazon_ses(msg: Message, original: str) -> DeliveryReport | None:
    text = plain_text(msg.as_bytes()) if "amazonses" in str(msg.get("Return-Path", "")).lower() else ""
    if '"notificationType"' not in text:
        return None
    try:
        start = text.index("{")
        data = json.loads(text[start : text.rindex("}") + 1])
    except (ValueError, TypeError):
        return None
    bounce = data.get("bounce") if isinstance(data, dict) else None
    if not isinstance(bounce, dict):
        return None
    permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
    recipients = tuple(
        str(r.get("emailAddress", "")).lower() for r in bounce.get("bouncedRecipients", []) if isinstance(r, dict)
    )
    mail = data.get("mail", {}) if isinstance(data.get("mail"), dict) else {}
    headers = mail.get("commonHeaders", {}) if isinstance(mail.get("commonHeaders"), dict) else {}
    original = original or str(headers.get("messageId", "") or "")
    return DeliveryReport(permanent, recipients, original, "", "an Amazon SES bounce notification")


_ACTION_LINE = re.compile(r"^\s*Action\s*:\s*(failed|delayed)\b", re.IGNORECASE | re.MULTILINE)
_RECIPIENT_LINE = re.compile(r"^\s*(?:Final|Original)-Recipient\s*:\s*[^;\n]*;\s*<?([^>\s]+@[^>\s]+)", re.I | re.M)


def _from_dsn_text(raw: bytes, original: str) -> DeliveryReport | None:
    """A delivery-status block that is not in its own MIME part (forwarded, or malformed)."""
    text = raw[:200000].decode("utf-8", "replace")
    actions = {a.lower() for a in _ACTION_LINE.findall(text)}
    if not actions:
        return None
    recipients = tuple(dict.fromkeys(r.lower() for r in _RECIPIENT_LINE.findall(text)))
    permanent = "failed" in actions
    status = _first_status(raw, "5" if permanent else "4")
    return DeliveryReport(permanent, recipients, original, status, "a delivery-status block in the text")


def _from_heuristics(msg: Message, raw: bytes, original: str) -> DeliveryReport | None:
    report = _from_dsn_text(raw, original)
    if report is not None:
        return report
    try:
        temporary, permanent = all_failures(msg)
    except Exception:
        temporary, permanent = frozenset(), frozenset()
    perm = tuple(sorted(_addr(a) for a in permanent))
    temp = tuple(sorted(_addr(a) for a in temporary))
    if perm:
        return DeliveryReport(True, perm, original, _first_status(raw, "5"), "a bounce recognised by flufl.bounce")
    if temp:
        return DeliveryReport(False, temp, original, _first_status(raw, "4"), "a delay notice (flufl.bounce)")
    text = plain_text(raw)[:20000]
    head = f"{msg.get('Subject', '')}\n{text}"
    if _DELAY_TEXT.search(head) and not _FAILURE_TEXT.search(head):
        return DeliveryReport(False, _addresses(text), original, _first_status(raw, "4"), "a delay notice")
    if _FAILURE_TEXT.search(head) or (_STATUS.search(text[:5000]) and " 5." in text[:5000]):
        return DeliveryReport(True, _addresses(text), original, _first_status(raw, "5"), "a delivery failure notice")
    return None


def _addr(value: bytes | str) -> str:
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else value).strip("<> ").lower()


def _addresses(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a.lower() for a in _ADDRESS.findall(text[:5000])))


def _first_status(raw: bytes, klass: str) -> str:
    for match in _STATUS.finditer(raw[:50000].decode("utf-8", "replace")):
        if match.group(1) == klass:
            return match.group(0)
    return ""


def _original_message_id(msg: Message, raw: bytes) -> str:
    """The Message-ID in the returned message or headers, not the report's own."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found = str(inner[0].get("Message-ID", "")).strip()
                if found:
                    return _msgid(found)
        if ctype in ("text/rfc822-headers", "text/global-headers"):
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
            found_line = _MSGID_LINE.search(text)
            if found_line:
                return found_line.group(1)
    own = _msgid(str(msg.get("Message-ID", "")))
    body = raw.split(b"\n\n", 1)[-1].decode("utf-8", "replace")
    for match in _MSGID_LINE.finditer(body):
        if match.group(1) != own:
            return match.group(1)
    return ""


def _msgid(value: str) -> str:
    found = re.search(r"<[^<>\s]+>", value)
    return found.group(0) if found else ""
