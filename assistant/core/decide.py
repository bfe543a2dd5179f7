"""decide(snapshot, state, settings, now) -> Plan: the whole cycle's judgement, without I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from assistant.core import draft as drafts
from assistant.core.calendar import desired_objects, goal_basis
from assistant.core.digest import compose_digest, digest_due, digest_sections
from assistant.core.followups import MailContext, RequestInputs, step
from assistant.core.model import CalendarSnapshot, MailMessage, MailSnapshot
from assistant.core.plan import Action, Plan, SendDigest
from assistant.core.readback import effective_goals, read_back
from assistant.core.reconcile import reconcile
from assistant.core.replies import RequestKeys, assign, conversation_keys
from assistant.core.requests import Thread, TrackingRules, bcc_copies, find_threads
from assistant.core.settings import Settings
from assistant.core.state import FINAL_STATES, CalendarRecord, RequestRecord, State
from assistant.core.status import build_status


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
        last_sent_at=root.date,
        source=thread.source,
    )


def requests_in(
    sent: tuple[MailMessage, ...] | list[MailMessage],
    inbound: tuple[MailMessage, ...] | list[MailMessage],
    records: Mapping[str, RequestRecord],
    rules: TrackingRules,
) -> dict[str, tuple[RequestRecord, Thread | None]]:
    """Every request (by id): its record, new or remembered, and its thread as scanned."""
    known_roots = {r.message_id: frozenset(r.thread) | {r.message_id} for r in records.values()}
    threads = find_threads(sent, rules, known_roots=known_roots, bcc_copies=bcc_copies(inbound, rules))
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


def request_keys(by_id: dict[str, tuple[RequestRecord, Thread | None]], settings: Settings) -> list[RequestKeys]:
    """What identifies each request's conversation, for the matching ladder."""
    return [_keys(record, thread, settings) for record, thread in by_id.values()]


def _keys(record: RequestRecord, thread: Thread | None, settings: Settings) -> RequestKeys:
    ids = frozenset(record.thread) | {record.message_id} | (thread.ids if thread else frozenset())
    conv = set(record.conversation)
    if thread is not None:
        for message in thread.messages:
            conv |= conversation_keys(message)
    people = set(record.recipients) | {record.mentor}
    mentor = settings.mentor_for(record.mentor)
    if mentor is not None:
        people |= {e.lower() for e in mentor.emails}
    people -= settings.me.addresses
    return RequestKeys(
        id=record.id,
        ids=ids,
        conversation=frozenset(conv),
        people=frozenset(people),
        sent_at=record.sent_at,
        subject=record.subject,
        open=record.state not in FINAL_STATES,
    )


def _drafts_by_request(messages: tuple[MailMessage, ...]) -> dict[str, list[MailMessage]]:
    grouped: dict[str, list[MailMessage]] = defaultdict(list)
    for message in messages:
        parsed = drafts.parse_draft_header(message.header("x-mentor-assistant"))
        if parsed:
            grouped[parsed[0]].append(message)
    return grouped


def decide_mail(
    snapshot: MailSnapshot,
    records: Mapping[str, RequestRecord],
    settings: Settings,
    templates: dict[str, str],
    *,
    now: datetime,
    since: date,
) -> tuple[tuple[Action, ...], tuple[RequestRecord, ...], tuple[str, ...]]:
    """Requests, replies and follow-ups: the actions, the new records, and notes."""
    rules = TrackingRules.of(settings, since=since, manual=snapshot.manual)
    by_id = requests_in(snapshot.sent, snapshot.inbound, records, rules)
    ours = _drafts_by_request(snapshot.drafts)
    ctx = MailContext(
        settings=settings,
        templates=templates,
        now=now,
        drafts_folder=snapshot.folders.drafts,
        keywords_allowed=snapshot.keywords_allowed,
    )
    actions: list[Action] = []
    new_records: list[RequestRecord] = []
    notes: list[str] = list(snapshot.skipped)
    mine = settings.me.addresses
    matched = assign(snapshot.inbound, request_keys(by_id, settings), my_addresses=mine)
    for rid, (record, thread) in sorted(by_id.items(), key=lambda kv: (kv[1][0].sent_at, kv[0])):
        if thread is not None:
            conv = {k for m in thread.messages for k in conversation_keys(m)}
            record = replace(record, conversation=tuple(sorted(set(record.conversation) | conv)))
        matches = tuple(matched.get(rid, ()))
        outcome = step(RequestInputs(record, thread, matches, tuple(ours.get(rid, ()))), ctx)
        actions.extend(outcome.actions)
        new_records.append(outcome.record)
        notes.extend(outcome.notes)
    return tuple(actions), tuple(new_records), tuple(notes)


def decide(
    snapshot: MailSnapshot | None,
    state: State,
    settings: Settings,
    templates: dict[str, str],
    *,
    now: datetime,
    since: date,
    calendar: CalendarSnapshot | None = None,
    calendar_down: bool = False,
) -> Plan:
    """The plan for one cycle. `snapshot` is None when the mailbox was not read, `calendar`
    None when the calendar server was not (then nothing is read back from it); with
    `calendar_down` nothing is planned for the calendar at all this cycle."""
    actions: list[Action] = []
    records: tuple[RequestRecord, ...] = tuple(state.requests.values())
    notes: list[str] = []
    if snapshot is not None:
        mail_actions, records, mail_notes = decide_mail(
            snapshot, state.requests, settings, templates, now=now, since=since
        )
        actions.extend(mail_actions)
        notes.extend(mail_notes)
    cal_records, overrides = dict(state.calendar), dict(state.overrides)
    if calendar is not None:
        cal_records, overrides, cal_notes = read_back(cal_records, calendar, settings, overrides, now=now)
        notes.extend(cal_notes)
    goals, overrides = effective_goals(settings.goals, overrides)
    effective = replace(settings, goals=goals)
    kept: tuple[CalendarRecord, ...] = tuple(cal_records.values())
    if settings.calendar and not calendar_down:
        vtodo = calendar.supports_vtodo if calendar is not None else True
        desired = desired_objects(effective, now=now, vtodo=vtodo, bases=_bases(settings))
        cal_actions, kept = reconcile(desired, cal_records, now=now)
        actions.extend(cal_actions)
    digest = _digest(effective, records, state, now=now)
    if digest is not None:
        actions.append(digest)
    return Plan(
        actions=tuple(actions),
        requests=records,
        calendar=kept,
        overrides=tuple(overrides.values()),
        notes=tuple(notes),
    )


def _bases(settings: Settings) -> dict[str, str]:
    """Each goal's fingerprint as the resident wrote it (not as the calendar changed it)."""
    return {g.id: goal_basis(g) for g in settings.goals}


def _digest(
    settings: Settings, records: tuple[RequestRecord, ...], state: State, *, now: datetime
) -> SendDigest | None:
    if settings.digest == "off":
        return None
    due = digest_due(settings.digest, last_period=state.meta.digest_period, now=now, tz_name=settings.me.timezone)
    if due is None:
        return None
    status = build_status(settings, {r.id: r for r in records}, now=now)
    sections = digest_sections(settings, list(records), status, now=now)
    raw, message_id = compose_digest(settings, sections, now=now, period=due.period)
    return SendDigest(due.period, message_id, raw)
