"""The mail side of a cycle: requests, their answers and their drafts, decided together.

Sent mail is grouped into request threads (`requests.py`); inbound mail (from the watched
folders and from the search of every other folder) is classified and tied to requests
(`replies.py`); the drafts in Drafts are tied to requests by what they are
(`pending.py`); then each request's state machine takes one step (`followups.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from assistant.core import draft as drafts
from assistant.core.followups import MailContext, RequestInputs, step
from assistant.core.model import MailMessage, MailSnapshot
from assistant.core.pending import pending_drafts
from assistant.core.plan import Action
from assistant.core.replies import RequestKeys, assign, conversation_keys
from assistant.core.requests import Thread, TrackingRules, bcc_copies, find_threads
from assistant.core.settings import Settings
from assistant.core.state import FINAL_STATES, RequestRecord


def _new_record(thread: Thread) -> RequestRecord:
    root = thread.root
    assert root is not None
    return RequestRecord(
        id=drafts.request_id_for(thread.root_id),
        message_id=thread.root_id,
        mentor=thread.mentor,
        subject=root.subject,
        sent_at=root.date,
        recipients=tuple(a.email for a in root.recipients),
        thread=(thread.root_id,),
        last_sent_at=max(root.date, root.arrived),
        source=thread.source,
        arrived=root.internaldate,
    )


def requests_in(
    sent: tuple[MailMessage, ...] | list[MailMessage],
    inbound: tuple[MailMessage, ...] | list[MailMessage],
    records: Mapping[str, RequestRecord],
    rules: TrackingRules,
) -> dict[str, tuple[RequestRecord, Thread | None]]:
    """Every request (by id): its record, new or remembered, and its thread as scanned."""
    known_roots = {r.message_id: frozenset(r.thread) | {r.message_id} for r in records.values()}
    known_subjects = {r.message_id: (r.subject, frozenset(r.recipients) | {r.mentor}) for r in records.values()}
    threads = find_threads(sent, rules, known_roots=known_roots, bcc_copies=bcc_copies(inbound, rules),
                           known_subjects=known_subjects)  # fmt: skip
    by_id: dict[str, tuple[RequestRecord, Thread | None]] = {}
    for found in threads:
        rid = drafts.request_id_for(found.root_id)
        record = records.get(rid)
        if record is None:
            if found.root is None:
                continue
            record = _new_record(found)
        by_id[rid] = (record, found)
    for rid, record in records.items():
        by_id.setdefault(rid, (record, None))  # never infer anything from a message we did not see
    return by_id


def _ids(record: RequestRecord, thread: Thread | None) -> frozenset[str]:
    return frozenset(record.thread) | {record.message_id} | (thread.ids if thread else frozenset())


def request_keys(by_id: dict[str, tuple[RequestRecord, Thread | None]], settings: Settings) -> list[RequestKeys]:
    """What identifies each request's conversation, for the matching ladder."""
    out = []
    for record, thread in by_id.values():
        conv = set(record.conversation)
        if thread is not None:
            for message in thread.messages:
                conv |= conversation_keys(message)
        people = set(record.recipients) | {record.mentor}
        mentor = settings.mentor_for(record.mentor)
        if mentor is not None:
            people |= {e.lower() for e in mentor.emails}
        people -= settings.me.addresses
        out.append(RequestKeys(
            id=record.id, ids=_ids(record, thread), conversation=frozenset(conv), people=frozenset(people),
            sent_at=record.sent_at, subject=record.subject, open=record.state not in FINAL_STATES,
            arrived=record.arrived,
        ))  # fmt: skip
    return out


def decide_mail(
    snapshot: MailSnapshot,
    records: Mapping[str, RequestRecord],
    settings: Settings,
    templates: dict[str, str],
    *,
    now: datetime,
    since: date,
) -> tuple[tuple[Action, ...], tuple[RequestRecord, ...], tuple[str, ...]]:
    """Requests, answers and follow-ups: the actions, the new records, and notes."""
    rules = TrackingRules.of(settings, since=since, manual=snapshot.manual)
    by_id = requests_in(snapshot.sent, snapshot.inbound, records, rules)
    ctx = MailContext(
        settings=settings,
        templates=templates,
        now=now,
        drafts_folder=snapshot.folders.drafts,
        keywords_allowed=snapshot.keywords_allowed,
        evidence_for=snapshot.evidence_for,
    )
    pending = pending_drafts(snapshot.drafts, [(r, _ids(r, t)) for r, t in by_id.values()], domain=settings.me.domain)
    mine = settings.me.addresses
    own = [m for m in snapshot.inbound if m.sender is not None and m.sender.email in mine]
    matched = assign(snapshot.inbound, request_keys(by_id, settings), my_addresses=mine)
    actions: list[Action] = []
    new_records: list[RequestRecord] = []
    notes: list[str] = list(snapshot.skipped)
    for rid, (record, thread) in sorted(by_id.items(), key=lambda kv: (kv[1][0].sent_at, kv[0])):
        if thread is not None:
            conv = {k for m in thread.messages for k in conversation_keys(m)}
            record = replace(record, conversation=tuple(sorted(set(record.conversation) | conv)))
        ids = _ids(record, thread)
        inputs = RequestInputs(
            record=record,
            thread=thread,
            matches=tuple(matched.get(rid, ())),
            pending=tuple(pending.get(rid, ())),
            own=tuple(m for m in own if ids.intersection(m.thread_ids)),
            new=rid not in records,
        )
        outcome = step(inputs, ctx)
        actions.extend(outcome.actions)
        new_records.append(outcome.record)
        notes.extend(outcome.notes)
    return tuple(actions), tuple(new_records), tuple(notes)
