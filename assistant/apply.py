"""Executing a Plan against the servers, recording each outcome in the state.

Order matters for "exactly once": the planned records (with each new draft's intent) are
saved before any APPEND, and an APPEND first looks for its Message-ID in Drafts, so a
crash anywhere leaves at most the one draft that the next cycle finds again. Every action
is idempotent: applying the same plan twice changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from assistant.adapters.caldav import CalendarStore, PreconditionFailed
from assistant.adapters.store import StoreSession
from assistant.core.calendar import content_hash, significant_hash
from assistant.core.draft import draft_fingerprint
from assistant.core.flags import FLAGGED
from assistant.core.model import flags_untouched
from assistant.core.plan import (
    Action,
    AddFlags,
    AppendDraft,
    DeleteCalendarObject,
    DeleteDraft,
    Plan,
    PutCalendarObject,
    RemoveFlags,
    SendDigest,
)
from assistant.core.reconcile import mark_created
from assistant.core.state import CalendarRecord, RequestRecord, State
from assistant.errors import TempFailError
from assistant.mailbox import Mailbox

log = logging.getLogger(__name__)

DRAFT_FLAGS = ("\\Draft", "\\Seen")
MAX_412_RETRIES = 3


@dataclass
class ApplyReport:
    """What was done, what failed (to retry next cycle), and what the resident should know."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    writes: int = 0


def apply_plan(
    plan: Plan,
    session: StoreSession,
    *,
    mailbox: Mailbox | None,
    calendar: CalendarStore | None,
    now: datetime,
    send_digest: Callable[[bytes], None] | None = None,
) -> ApplyReport:
    """Carry out `plan`; failures of single actions are reported and retried next cycle."""
    report = ApplyReport(notes=list(plan.notes))
    session.state = planned_state(session.state, plan)
    session.save()  # the intent, before any write to a server
    try:
        for action in plan.actions:
            try:
                if isinstance(action, SendDigest):
                    _send_digest(action, session, send_digest, report)
                else:
                    _apply_one(action, session, mailbox, calendar, now, report)
            except TempFailError as exc:
                log.warning("Could not %s: %s", action.describe(), exc)
                report.failed.append(f"{action.describe()}: {exc}")
    finally:
        session.save()
    return report


def planned_state(state: State, plan: Plan) -> State:
    """The state with the plan's records in place (what is saved before any server write)."""
    if plan.requests is not None:
        state = replace(state, requests={r.id: r for r in plan.requests})
    if plan.calendar is not None:
        state = replace(state, calendar={r.uid: r for r in plan.calendar})
    if plan.overrides is not None:
        state = replace(state, overrides={o.id: o for o in plan.overrides})
    if plan.meta is not None:
        state = replace(state, meta=plan.meta)
    return state


def _put_request(session: StoreSession, record: RequestRecord) -> None:
    session.state = replace(session.state, requests={**session.state.requests, record.id: record})


def _put_calendar(session: StoreSession, uid: str, record: CalendarRecord | None) -> None:
    records = {k: v for k, v in session.state.calendar.items() if k != uid}
    if record is not None:
        records[uid] = record
    session.state = replace(session.state, calendar=records)


def _flag_not_set(session: StoreSession, action: AddFlags) -> None:
    """Our flag could not be set: the record must not say it is on, or the next cycle would
    take its absence for the resident removing it, and never flag the request again."""
    record = session.state.requests.get(action.request_id)
    if FLAGGED in action.flags and record is not None and record.flagged_by_us:
        _put_request(session, replace(record, flagged_by_us=False))


def _send_digest(
    action: SendDigest, session: StoreSession, send: Callable[[bytes], None] | None, report: ApplyReport
) -> None:
    if send is None:
        raise TempFailError("no SMTP server is configured")
    if session.state.meta.digest_period == action.period:
        return  # sent already (a plan applied twice)
    send(action.raw)
    state = session.state
    session.state = replace(state, meta=replace(state.meta, digest_period=action.period))
    session.save()
    report.writes += 1
    report.done.append(action.describe())


def _apply_one(
    action: Action,
    session: StoreSession,
    mailbox: Mailbox | None,
    calendar: CalendarStore | None,
    now: datetime,
    report: ApplyReport,
) -> None:
    if isinstance(action, PutCalendarObject | DeleteCalendarObject):
        if calendar is None:
            raise TempFailError("the calendar is not reachable")
        _apply_calendar(action, session, calendar, report)
        return
    if mailbox is None:
        raise TempFailError("the mailbox is not reachable")
    if isinstance(action, AddFlags):
        try:
            mailbox.add_flags(action.folder, action.uid, action.flags)
        except TempFailError:
            _flag_not_set(session, action)
            raise
        report.writes += 1
    elif isinstance(action, RemoveFlags):
        mailbox.remove_flags(action.folder, action.uid, action.flags)
        report.writes += 1
    elif isinstance(action, AppendDraft):
        _append_draft(action, session, mailbox, now, report)
        return
    elif isinstance(action, DeleteDraft):
        _delete_draft(action, session, mailbox, report)
        return
    report.done.append(action.describe())
    log.debug("Done: %s", action.describe())


def _append_draft(
    action: AppendDraft, session: StoreSession, mailbox: Mailbox, now: datetime, report: ApplyReport
) -> None:
    existing = mailbox.find_by_message_id(action.folder, action.message_id)
    uid: int | None
    if existing:
        uid = existing[0]
        log.info("Draft %s is already in %s (UID %s); not writing it again", action.message_id, action.folder, uid)
    else:
        uid = mailbox.append(action.folder, action.raw, DRAFT_FLAGS, now)
        report.writes += 1
        if uid is None:  # no APPENDUID: find it by its Message-ID
            found = mailbox.find_by_message_id(action.folder, action.message_id)
            uid = found[0] if found else None
        report.done.append(action.describe())
        log.debug("Done: %s", action.describe())
    record = session.state.requests.get(action.request_id)
    if record is not None and record.draft is not None and record.draft.message_id == action.message_id:
        _put_request(session, replace(record, draft=replace(record.draft, uid=uid)))
        session.save()


def _delete_draft(action: DeleteDraft, session: StoreSession, mailbox: Mailbox, report: ApplyReport) -> None:
    """Remove our draft only after re-reading it: every byte and every flag as we wrote it.

    Anything else (an attachment, a changed recipient or word, a flag) makes it the
    resident's: left alone and reported.
    """
    raw = mailbox.fetch_raw(action.folder, action.uid)
    flags = mailbox.fetch_flags(action.folder, action.uid)
    if raw is None or flags is None:
        log.info("Draft %s is already gone from %s", action.message_id, action.folder)
        return
    if draft_fingerprint(raw) != action.fingerprint or not flags_untouched(flags):
        note = (
            f"The draft {action.message_id} in {action.folder} was changed, so it was left alone "
            f"although {action.reason}."
        )
        log.warning("%s", note)
        report.notes.append(note)
        record = session.state.requests.get(action.request_id)
        if record is not None:
            _put_request(session, replace(record, reported_edited=True))
        return
    mailbox.delete(action.folder, action.uid)
    report.writes += 1
    report.done.append(action.describe())
    log.debug("Done: %s", action.describe())


def _apply_calendar(
    action: PutCalendarObject | DeleteCalendarObject,
    session: StoreSession,
    calendar: CalendarStore,
    report: ApplyReport,
) -> None:
    if isinstance(action, DeleteCalendarObject):
        try:
            calendar.delete(action.href, etag=action.etag)
        except PreconditionFailed:
            # Changed on the server since we wrote it: re-read, and delete only our object.
            current = calendar.get(action.href)
            if current is not None and action.uid in current.ics:
                calendar.delete(action.href, etag=current.etag)
        _put_calendar(session, action.uid, None)
        report.writes += 1
        report.done.append(action.describe())
        log.debug("Done: %s", action.describe())
        return
    href = action.href or calendar.href_for(action.uid)
    etag = action.etag if action.href else None
    pushed_before = session.state.calendar.get(action.uid)
    for _attempt in range(MAX_412_RETRIES + 1):
        try:
            new_etag = calendar.put(href, action.ics, etag=etag)
            report.writes += 1
            break
        except PreconditionFailed:
            current = calendar.get(href)
            if current is None:
                etag = None  # deleted meanwhile: create it again
                continue
            if f"UID:{action.uid}" not in current.ics.replace("\r\n ", ""):
                raise TempFailError(f"{href} holds an object that is not ours; not touching it") from None
            if content_hash(current.ics) == action.hash:
                new_etag = current.etag  # already as we want it (a lost state, or a retry)
                break
            if pushed_before is not None and significant_hash(current.ics) != pushed_before.significant:
                # The resident changed a date, the title or the status meanwhile: the next
                # cycle reads that back before anything is written over it.
                raise TempFailError(
                    f"{action.summary!r} was changed in the calendar meanwhile; re-reading it next cycle"
                ) from None
            etag = current.etag  # only our own text differs: merge by writing ours over it
    else:
        raise TempFailError(f"{href} kept changing while we wrote it; will retry next cycle")
    _put_calendar(session, action.uid, mark_created(action.record, href, new_etag))
    report.done.append(action.describe())
    log.debug("Done: %s", action.describe())
