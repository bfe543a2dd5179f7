"""Which messages of the mailbox matter this cycle: decided once, by the core.

The shell scans folders with these predicates and keeps only what they accept (and a
body only where `needs_body` asks for one); `decide` then ties the kept messages to
requests exactly. The predicates accept a superset of what `decide` uses, never less.
Their fingerprint is that of the tracking rules: when the rules change, the scan starts
over, so a new rule never leaves a stale cache behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from assistant.core.classify import BY_SUBJECT, LIST, RECEIPT, SELF, classify, classify_headers, may_be_report
from assistant.core.draft import parse_draft_header, request_id_for
from assistant.core.model import DRAFT_HEADER, MailMessage
from assistant.core.replies import conversation_keys
from assistant.core.requests import TrackingRules, is_bcc_copy, tracking_source
from assistant.core.settings import Settings
from assistant.core.state import FINAL_STATES, State


@dataclass(frozen=True)
class EvidenceQuery:
    """What answers one request looks like, for a server-side search of every folder."""

    key: str  # the request's Message-ID
    ids: tuple[str, ...]  # the resident's Message-IDs in the thread: a reply names one of them
    people: tuple[str, ...]  # who may answer: the mentor's addresses and the request's recipients
    since: date  # the first day an answer can have arrived (a day early, for clock skew)


@dataclass(frozen=True)
class Relevance:
    """The tracking rules, and what the state and Sent say about the requests' threads."""

    rules: TrackingRules
    known: frozenset[str]  # Message-IDs of the resident's request threads
    people: frozenset[str]  # who may answer: mentors and the requests' recipients
    conversations: frozenset[str]  # Gmail thread ids and Outlook conversation keys of the threads
    scan_from: date  # the first day a folder's first scan reads

    @classmethod
    def build(cls, settings: Settings, state: State, *, since: date) -> Relevance:
        """What matters, from the settings and the remembered requests."""
        rules = TrackingRules.of(settings, since=since, manual=frozenset(state.meta.manual))
        records = state.requests.values()
        known = frozenset(i for r in records for i in (r.message_id, *r.thread)) | rules.manual
        people = (rules.mentors | {a for r in records for a in (*r.recipients, r.mentor)}) - rules.not_mentors
        conversations = frozenset(c for r in records for c in r.conversation)
        first = min((r.sent_at.astimezone(settings.tz).date() for r in records), default=since)
        return cls(rules, known, frozenset(people), conversations, min(since, first))

    @property
    def fingerprint(self) -> str:
        return self.rules.fingerprint

    def sent_filter(self, copies: frozenset[str]) -> Callable[[MailMessage], bool]:
        """A predicate for Sent, in arrival order: requests, and later messages in their threads."""
        related = set(self.known) | set(copies)

        def keep(message: MailMessage) -> bool:
            if (
                message.message_id in related
                or related.intersection(message.thread_ids)
                or tracking_source(message, self.rules, copies) is not None
            ):
                related.add(message.message_id)
                return True
            return False

        return keep

    def with_sent(self, sent: Iterable[MailMessage]) -> Relevance:
        """Extended by the resident's kept sent messages: their ids, recipients and conversations."""
        sent = list(sent)
        return replace(
            self,
            known=self.known | {m.message_id for m in sent if m.message_id},
            people=self.people | ({a.email for m in sent for a in m.recipients} - self.rules.not_mentors),
            conversations=self.conversations | {k for m in sent for k in conversation_keys(m)},
        )

    def new_requests(self, sent: Iterable[MailMessage], copies: frozenset[str]) -> list[MailMessage]:
        """Sent messages that start requests not remembered yet."""
        return [m for m in sent if m.message_id not in self.known and tracking_source(m, self.rules, copies)]

    def tied(self, message: MailMessage) -> bool:
        """Whether an inbound message names a thread, shares its conversation, or comes from someone asked."""
        if self.known.intersection(message.thread_ids) or self.conversations & conversation_keys(message):
            return True
        sender = message.sender.email if message.sender else ""
        return sender in self.people or is_bcc_copy(message, self.rules)

    def keep_inbound(self, message: MailMessage) -> bool:
        """Keep an inbound message: tied to a request, or possibly a delivery report about one."""
        return self.tied(message) or may_be_report(message, my_addresses=self.rules.me)

    def needs_body(self, message: MailMessage) -> bool:
        """Read the body of a kept inbound message: a return date, a report, whom a reply suggests."""
        verdict = classify_headers(message, my_addresses=self.rules.me)
        if verdict.kind == RECEIPT and not verdict.rule.startswith(BY_SUBJECT):
            return False  # a disposition-notification report: its headers say everything
        return verdict.kind not in (SELF, LIST)

    def keep_draft(self, message: MailMessage) -> bool:
        """A message in Drafts that matters: ours, or a reply into a request's thread, or one to
        someone asked (the resident's own follow-up, or ours after a client re-saved it)."""
        if message.header(DRAFT_HEADER) or message.message_id.startswith("<mentor-assistant."):
            return True
        if self.known.intersection(message.thread_ids) or self.conversations & conversation_keys(message):
            return True
        return any(a.email in self.people for a in message.recipients)

    def evidence_queries(
        self,
        settings: Settings,
        state: State,
        sent: Iterable[MailMessage],
        copies: frozenset[str],
        *,
        now: datetime,
        drafts: Iterable[MailMessage] = (),
    ) -> tuple[EvidenceQuery, ...]:
        """The requests to look for answers to in every folder this cycle: those with a draft
        waiting (remembered, or found in Drafts: after a lost state it may be ours), and those
        a follow-up is (nearly) due for. New ones too: after a lost state, a request first
        seen now may be long overdue."""
        sent = list(sent)
        wait = settings.followup.wait - timedelta(days=1)
        drafted = _drafted(drafts)
        queries: dict[str, EvidenceQuery] = {}
        for r in state.requests.values():
            if r.state in FINAL_STATES or r.untracked:
                continue
            ids = {r.message_id, *r.thread}
            if r.draft is None and r.last_sent_at + wait > now and not drafted(r.id, ids):
                continue
            ids |= {m.message_id for m in sent if ids.intersection(m.thread_ids)}
            people = set(r.recipients) | {r.mentor} | set(_addresses(settings, r.mentor))
            queries[r.message_id] = self._query(r.message_id, ids, people, r.sent_at)
        for root in self.new_requests(sent, copies):
            if root.message_id in queries:
                continue
            ids = {root.message_id} | {m.message_id for m in sent if root.message_id in m.thread_ids}
            latest = max([root.date, *(m.date for m in sent if m.message_id in ids)])
            if latest + wait > now and not drafted(request_id_for(root.message_id), ids):
                continue
            people = {a.email for a in root.recipients}
            for a in list(people):
                people |= set(_addresses(settings, a))
            queries[root.message_id] = self._query(root.message_id, ids, people, root.date)
        return tuple(queries.values())

    def _query(self, key: str, ids: set[str], people: set[str], sent_at: datetime) -> EvidenceQuery:
        people -= self.rules.not_mentors
        since = sent_at.astimezone(ZoneInfo(self.rules.tz)).date() - timedelta(days=1)
        return EvidenceQuery(key, tuple(sorted(i for i in ids if i)), tuple(sorted(people)), since)

    def keep_with_body(self, message: MailMessage) -> bool:
        """After the body was read: a possible report stays only when it names a request."""
        if self.tied(message):
            return True
        report = classify(message, my_addresses=self.rules.me).report
        if report is None:
            return False
        return report.original_message_id in self.known or bool(set(report.recipients) & self.people)


def _drafted(drafts: Iterable[MailMessage]) -> Callable[[str, set[str]], bool]:
    """Whether a request (its id, its thread's Message-IDs) has a draft in Drafts: ours by
    our header, or any that replies into the thread."""
    drafts = list(drafts)
    ours = {parsed[0] for d in drafts if (parsed := parse_draft_header(d.header(DRAFT_HEADER)))}
    threads = {i for d in drafts for i in d.thread_ids}
    return lambda request_id, ids: request_id in ours or not threads.isdisjoint(ids)


def _addresses(settings: Settings, address: str) -> tuple[str, ...]:
    mentor = settings.mentor_for(address)
    return tuple(e.lower() for e in mentor.emails) if mentor else ()
