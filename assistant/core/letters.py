"""How a letter of the relationship is found again, so that it is written once.

The proposal, the review meeting and the thank-you are drafts the resident sends. Our
Message-ID finds them, unless a mail client saved the edited draft as a new message
(Thunderbird gives every save a new Message-ID and drops our header): then the letter is
the message to the mentor with the letter's own subject, since its version began.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from assistant.core.draft import draft_fingerprint
from assistant.core.model import MailMessage
from assistant.core.plan import AppendDraft, Plan
from assistant.core.prefixes import normalize_subject
from assistant.core.settings import Contract

PROPOSAL_SUBJECT = "Our mentorship agreement: a proposal"
REVIEW_SUBJECT = "Reviewing our mentorship agreement"
THANKS_SUBJECT = "Thank you"


@dataclass(frozen=True)
class LetterKey:
    """What identifies one letter: our Message-ID, or its recipient and subject since `since`."""

    message_id: str
    to: str
    subject: str
    since: date | None  # None: since the relationship began


@dataclass(frozen=True)
class Letter:
    """One composed letter to a contract's mentor, and how it is found again."""

    raw: bytes
    key: LetterKey
    what: str  # "the thank-you to …": names it in the plan and its notes


def letter_key(message_id: str, contract: Contract, subject: str) -> LetterKey:
    """A letter to the contract's mentor: found by `message_id`, or by `subject` since its version began."""
    return LetterKey(message_id, contract.mentor, subject, version_began(contract))


def plan_letter(letter: Letter, *, written_in: str | None, drafts_folder: str) -> Plan:
    """Write a letter to Drafts once: nothing when it is already in Drafts, or was sent."""
    if written_in is not None:
        where = "is already in Drafts" if written_in == drafts_folder else "was already sent"
        return Plan(notes=(f"{letter.what.capitalize()} {where} ({written_in}); nothing written.",))
    key = letter.key
    return Plan(actions=(AppendDraft("", 0, drafts_folder, key.message_id, letter.raw, draft_fingerprint(letter.raw),
                                     letter.what),))  # fmt: skip


def version_began(contract: Contract) -> date | None:
    """The day the current version was agreed, when it is a renewal (None for the first)."""
    if not contract.previous:
        return None
    last = contract.previous[-1]
    return last.renewed or last.review


def is_letter(key: LetterKey, message: MailMessage) -> bool:
    """Whether `message` is the letter (edited or not): to its mentor, with its subject."""
    if message.message_id == key.message_id:
        return True
    to_mentor = any(a.email.lower() == key.to.lower() for a in (*message.to, *message.cc))
    return to_mentor and normalize_subject(message.subject) == normalize_subject(key.subject)
