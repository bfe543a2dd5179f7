"""What an inbound message is: a human reply, an automatic reply, a bounce, a receipt…

Classification happens before thread matching, because auto-replies and bounces thread
like human replies. The headers decide most cases; when the shell fetched the body
(`MailMessage.raw`, for anything that looks machine-made), delivery reports are read and
an out-of-office's return date is looked for. Each verdict carries the rule that fired.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from assistant.core.bounces import DeliveryReport, parse_delivery_report
from assistant.core.mime import plain_text
from assistant.core.model import MailMessage
from assistant.core.return_dates import return_date

HUMAN = "human"
AUTOMATIC = "automatic"
BOUNCE = "bounce"
DELAYED = "delayed"
RECEIPT = "receipt"
SELF = "self"
LIST = "list"

_AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|auto[- ]?respon(se|der)|out of (the )?office"
    r"|abwesenheitsnotiz|automatische antwort|réponse automatique|respuesta automática|risposta automatica"
    r"|automatisch antwoord|resposta automática|autosvar|automaattinen vastaus|vacation reply|on vacation"
    r"|away from (the )?office|away until|ooo\b|absence)",
    re.IGNORECASE,
)
_MACHINE_SENDER = re.compile(
    r"^(mailer-daemon|mail-daemon|mailerdaemon|postmaster|post_master|no-?reply|do-?not-?reply|bounces?"
    r"|mdaemon|mail-?delivery|[\w.-]+-(admin|bounces?|request))(\+[^@]*)?@",
    re.IGNORECASE,
)
_REPORT_SUBJECT = re.compile(
    r"^\s*(complaint about|abuse report|spam (report|complaint)|feedback report|email feedback report)", re.IGNORECASE
)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|mailerdaemon|post_master)@", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver(ed|able)|delivery (status|notification|failure|has failed|problem)|returned mail"
    r"|mail delivery (failed|subsystem|system)|failure notice|non[- ]?delivery|delivery report"
    r"|could not (be )?deliver|nicht zustellbar|unzustellbar|non remis|no entregado|error de entrega"
    r"|mail system error|メールエラー|not member|rejected|message (blocked|not delivered)|error sending"
    r"|aws notification message|loop alert|mail failure)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Verdict:
    """The kind of a message, the rule that decided it, and what it says."""

    kind: str
    rule: str
    report: DeliveryReport | None = None
    returns: date | None = None  # an out-of-office's stated return date


def looks_machine_made(message: MailMessage) -> bool:
    """Worth fetching the body for: a delivery system, a no-reply sender, a report."""
    sender = message.sender.email if message.sender else ""
    content_type = message.header("content-type").lower()
    return (
        not sender
        or bool(_MACHINE_SENDER.match(sender))
        or bool(_BOUNCE_SUBJECT.search(message.subject))
        or "multipart/report" in content_type
        or message.header("return-path").replace(" ", "") == "<>"
    )


def may_be_report(message: MailMessage, *, my_addresses: frozenset[str]) -> bool:
    """Whether a message not tied to any request may still be a delivery report about one:
    it is tied by what its body says, so the shell reads the body to find out."""
    kind = classify_headers(message, my_addresses).kind
    if kind in (SELF, RECEIPT, LIST):
        return False
    sender = message.sender.email if message.sender else ""
    content_type = message.header("content-type").lower()
    return (
        kind == BOUNCE
        or not sender
        or bool(_BOUNCE_SUBJECT.search(message.subject))
        or bool(_DAEMON.match(sender))
        or "multipart/report" in content_type
        # a machine sender with the original attached: how many non-standard reports look
        or (bool(_MACHINE_SENDER.match(sender)) and content_type.startswith("multipart/mixed"))
    )


def classify(message: MailMessage, *, my_addresses: frozenset[str]) -> Verdict:
    """Classify an inbound message; only `human` may ever count as a mentor's reply."""
    verdict = classify_headers(message, my_addresses)
    if message.raw is None or verdict.kind in (SELF, RECEIPT, LIST):
        return verdict
    if verdict.kind == AUTOMATIC:
        text = f"{message.subject}\n{plain_text(message.raw)}"
        return Verdict(AUTOMATIC, verdict.rule, returns=return_date(text, sent_on=message.date.date()))
    machine = verdict.kind == BOUNCE or looks_machine_made(message)
    report = parse_delivery_report(message.raw, heuristics=machine)
    if report is not None:
        if report.permanent:
            return Verdict(BOUNCE, report.how, report=report)
        return Verdict(DELAYED, report.how, report=report)
    if verdict.kind == BOUNCE:
        auto_replied = message.header("auto-submitted").lower().startswith("auto-replied")
        if verdict.rule.startswith("sent by") and auto_replied and not _BOUNCE_SUBJECT.search(message.subject):
            # Only the postmaster sender said "bounce"; the message calls itself an auto-reply
            # (RFC 3834) and its text names no failed delivery: a notice, not a bounce.
            return Verdict(AUTOMATIC, f"a notice from {verdict.rule.removeprefix('sent by ')} that reports no failure")
        return verdict
    if machine and _MACHINE_SENDER.match(message.sender.email if message.sender else ""):
        return Verdict(AUTOMATIC, f"sent by the machine address {message.sender.email if message.sender else ''}")
    return verdict


def classify_headers(message: MailMessage, my_addresses: frozenset[str]) -> Verdict:
    """What the headers alone say a message is."""
    sender = message.sender.email if message.sender else ""
    if sender and sender in my_addresses:
        return Verdict(SELF, "sent by you")
    content_type = message.header("content-type").lower()
    compact = content_type.replace(" ", "").replace('"', "")
    if "multipart/report" in compact:
        if "disposition-notification" in compact:
            return Verdict(RECEIPT, "a read receipt (disposition notification)")
        if "feedback-report" in compact:
            return Verdict(AUTOMATIC, "an abuse feedback report")
        if "delivery-status" in compact or "report-type" not in compact:
            return Verdict(BOUNCE, "a delivery-status report")
        return Verdict(AUTOMATIC, "a machine-generated report")
    if message.header("disposition-notification-to") and message.subject.lower().startswith(("read:", "gelesen:")):
        return Verdict(RECEIPT, "a read receipt")
    if _DAEMON.match(sender):
        return Verdict(BOUNCE, f"sent by {sender}")
    if _REPORT_SUBJECT.match(message.subject):
        return Verdict(AUTOMATIC, "an abuse or spam complaint report")
    if message.header("x-failed-recipients"):
        return Verdict(BOUNCE, "an X-Failed-Recipients header")
    auto = _automatic_rule(message)
    if auto:
        return Verdict(AUTOMATIC, auto)
    if not sender and _BOUNCE_SUBJECT.search(message.subject):
        return Verdict(BOUNCE, "a delivery failure subject from an empty sender")
    precedence = message.header("precedence").lower()
    if message.header("list-id") or precedence == "list":
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
