"""What an inbound message is: a human reply, an automatic reply, a bounce, a receipt…

Classification happens before thread matching, because auto-replies and bounces thread
like human replies. Each verdict carries the rule that fired, for `why`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.core.model import MailMessage

HUMAN = "human"
AUTOMATIC = "automatic"
BOUNCE = "bounce"
RECEIPT = "receipt"
SELF = "self"
LIST = "list"

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|abwesenheitsnotiz"
    r"|automatische antwort|réponse automatique|respuesta automática|risposta automatica"
    r"|automatisch antwoord|resposta automática|autosvar|automaattinen vastaus|vacation reply"
    r"|on vacation|away from (the )?office)\b",
    re.IGNORECASE,
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status notification|failure|has failed)|returned mail|"
    r"mail delivery (failed|subsystem)|failure notice|non[- ]?delivery)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Verdict:
    """The kind of a message and the rule that decided it."""

    kind: str
    rule: str


def classify(message: MailMessage, *, my_addresses: frozenset[str]) -> Verdict:
    """Classify an inbound message; only `human` may ever count as a mentor's reply."""
    sender = message.sender.email if message.sender else ""
    if sender and sender in my_addresses:
        return Verdict(SELF, "sent by you")
    content_type = message.header("content-type").lower()
    if "multipart/report" in content_type and "disposition-notification" in content_type:
        return Verdict(RECEIPT, "a read receipt (disposition notification)")
    bare_report = "multipart/report" in content_type and "report-type" not in content_type.replace(" ", "")
    if bare_report and (_DAEMON.match(sender) or _BOUNCE_SUBJECT.search(message.subject)):
        return Verdict(BOUNCE, "a delivery report without a report-type")
    if "multipart/report" in content_type and "delivery-status" in content_type:
        return Verdict(BOUNCE, "a delivery-status report")
    if _DAEMON.match(sender):
        return Verdict(BOUNCE, f"sent by {sender}")
    if message.header("x-failed-recipients"):
        return Verdict(BOUNCE, "an X-Failed-Recipients header")
    if message.subject.lower().startswith(("read:", "gelesen:", "lu :", "lu:")) and "report" in content_type:
        return Verdict(RECEIPT, "a read receipt")
    auto = _automatic_rule(message)
    if auto:
        return Verdict(AUTOMATIC, auto)
    if not sender and _BOUNCE_SUBJECT.search(message.subject):
        return Verdict(BOUNCE, "a delivery failure subject from an empty sender")
    precedence = message.header("precedence").lower()
    if message.header("list-id") or precedence in ("list",):
        return Verdict(LIST, "sent through a mailing list")
    return Verdict(HUMAN, "written by a person")


def _automatic_rule(message: MailMessage) -> str:
    auto_submitted = message.header("auto-submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return f"Auto-Submitted: {auto_submitted}"
    return_path = message.header("return-path").replace(" ", "")
    if return_path == "<>":
        return "an empty Return-Path (<>)"
    if message.header("x-autoreply") or message.header("x-autorespond"):
        return "an X-Autoreply/X-Autorespond header"
    precedence = message.header("precedence").lower()
    if precedence in ("auto_reply", "bulk", "junk"):
        return f"Precedence: {precedence}"
    if "vacation" in message.header("x-apple-action").lower():
        return "X-Apple-Action: vacation"
    if message.header("x-ms-exchange-inbox-rules-loop") and return_path in ("", "<>"):
        return "an Exchange inbox-rules reply"
    if _AUTO_SUBJECT.match(message.subject):
        return f"the subject {message.subject!r}"
    return ""
