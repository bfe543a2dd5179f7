"""The subject prefixes that mail systems write on automatic messages, in many languages.

A maintained list, not a guess: each group comes from the software that writes such
messages (Outlook/Exchange, Thunderbird, Roundcube, Zimbra, Lotus Domino, Google
Calendar…), its protocol documentation, or detectors that record what real mailboxes
receive (sisimai, Discourse). Strings are stored normalised (`normalize_subject`):
case-folded, full-width colons as ':', no-break spaces as spaces, whitespace collapsed.

The read-receipt prefixes are in `receipt_prefixes.py`, the calendar answers' in
`calendar_prefixes.py`, with their sources. These prefixes are weaker evidence than
headers: `classify.py` uses them only on a message that carries no human-reply evidence
(a message that threads into a request and has no automation header stays a human reply).
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")


def normalize_subject(subject: str) -> str:
    """A subject as the lists below store their prefixes."""
    text = subject.replace("\uff1a", ":").replace("\u00a0", " ").replace("\u202f", " ")
    return _SPACES.sub(" ", text).strip().casefold()


def starts_with_any(subject: str, prefixes: tuple[str, ...]) -> str:
    """The prefix of `prefixes` that the (normalised) subject starts with, or ""."""
    text = normalize_subject(subject)
    if not text.startswith(prefixes):  # one C-level test for the usual case: none of them
        return ""
    return next(p for p in prefixes if text.startswith(p))


# Automatic replies (out of office). Outlook/Exchange localisations as observed in real mailboxes
# (Microsoft does not publish them; corroborated by public classifier tests), sisimai RFC3834.pm,
# Discourse receiver.rb, Lotus Domino's OOO service ("AUTO: … is out of the office"), legacy Exchange.
# Only forms that end in a colon: a bare word such as "Absence" is something a person writes too.
AUTO_REPLY_PREFIXES = (
    "auto response:",
    "auto-reply to:",
    "auto:",
    "automaattinen vastaus:",
    "automatic reply:",
    "automatická odpověď:",
    "automatikus válasz:",
    "automatisch antwoord:",
    "automatische antwort:",
    "automatisk svar:",
    "automatiskt svar:",
    "balasan otomatis:",
    "odpowiedź automatyczna:",
    "otomatik yanıt:",
    "out of office autoreply:",
    "out of office:",
    "out of the office:",
    "resposta automática:",
    "respuesta automática:",
    "risposta automatica:",
    "réponse automatique :",
    "réponse automatique:",
    "răspuns automat:",
    "samodejni odgovor:",
    "trả lời tự động:",
    "αυτόματη απάντηση:",
    "автоматичен отговор:",
    "автоматический ответ:",
    "автоматична відповідь:",
    "автоответ:",
    "תשובה אוטומטית:",
    "رد تلقائي:",
    "स्वचालित उत्तर:",
    "ตอบกลับอัตโนมัติ:",
    "自动回复:",
    "自动答复:",
    "自動回覆:",
    "自動応答:",
    "자동 회신:",
)

# Whole subjects of automatic replies (multi_mail's autoresponder notes; Gmail vacation defaults).
AUTO_REPLY_SUBJECTS = (
    "auto response",
    "auto-reply",
    "automatic reply",
    "autoreply",
    "out of office",
    "out of office alert",
    "out of office reply",
)
