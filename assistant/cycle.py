"""One cycle: snapshot -> decide -> plan -> apply. Used by `once`, `run` and `demo`.

The mail part and the calendar part fail apart: a calendar that cannot be reached is
reported (`CycleResult.calendar_error`) after every mail action was decided, applied and
recorded, and the calendar is left as it was for the next cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from assistant.adapters import secrets
from assistant.adapters.caldav import CalendarGone, CalendarStore
from assistant.adapters.smtp import send_to_resident
from assistant.adapters.store import Store, StoreSession
from assistant.apply import ApplyReport, apply_plan
from assistant.calendar_snapshot import advance_token, read_calendar
from assistant.config import Config
from assistant.core.decide import decide
from assistant.core.model import CalendarSnapshot
from assistant.core.plan import Plan
from assistant.core.relevance import Relevance
from assistant.core.settings import Settings
from assistant.core.state import CalendarMeta, State
from assistant.errors import AssistantError, TempFailError, UnavailableError
from assistant.mail_connection import KeptConnection
from assistant.mailbox import open_mailbox
from assistant.snapshot import read_mailbox
from assistant.template_files import load_templates

log = logging.getLogger(__name__)


@dataclass
class CycleResult:
    plan: Plan
    report: ApplyReport | None  # None for a dry run
    calendar_error: AssistantError | None = None  # the calendar part failed; the mail part was done
    state: State | None = None  # the state as saved (None for a dry run): the daemon reads it, not the file


def tracking_since(settings: Settings, state: State, *, now: datetime) -> date:
    """`tracking.since`, else one wait before the first run (older mail is never dug up)."""
    if settings.tracking.since:
        return settings.tracking.since
    start = state.meta.first_run or now
    return (start - settings.followup.wait - timedelta(days=1)).astimezone(settings.tz).date()


def _digest_sender(config: Config) -> Callable[[bytes], None] | None:
    smtp = config.smtp
    if smtp is None or config.settings.digest == "off":
        return None

    def send(raw: bytes) -> None:
        password = secrets.resolve(smtp.secret, username=smtp.username, host=smtp.host)
        send_to_resident(smtp, password, me=config.settings.me, raw=raw)

    return send


def _open_calendar(
    config: Config, meta: CalendarMeta, state: State, *, dry_run: bool, now: datetime
) -> tuple[CalendarStore | None, CalendarSnapshot | None, CalendarMeta]:
    """Connect to the calendar (by its remembered URL when it came from this calendar.url and
    name) and read what changed."""
    cal = config.calendar
    assert cal is not None
    if meta.configured_url != cal.url or meta.name != cal.calendar:
        meta = CalendarMeta(configured_url=cal.url, name=cal.calendar)  # another calendar: discover it afresh
    password = secrets.resolve(cal.secret, username=cal.username, host=cal.url)
    try:
        store = CalendarStore.connect(cal, password, create=not dry_run, known_url=meta.url)
        try:
            snapshot, meta = read_calendar(store, state.calendar, meta, now=now)
        except CalendarGone:
            store.close()
            meta = CalendarMeta(configured_url=cal.url, name=cal.calendar)
            store = CalendarStore.connect(cal, password, create=not dry_run)
            snapshot, meta = read_calendar(store, state.calendar, meta, now=now)
    except UnavailableError:
        if not dry_run:
            raise
        log.info("The calendar %r does not exist yet; it would be created", cal.calendar)
        return None, None, meta
    return store, snapshot, meta


def run_cycle(
    config: Config, *, now: datetime, dry_run: bool = False, connection: KeptConnection | None = None
) -> CycleResult:
    """Run one full cycle. A dry run reads everything, writes nothing, and returns the plan.
    With `connection` (the daemon's), the IMAP login of the last cycle is used again."""
    store = Store(config.state_path)
    if dry_run:
        return _cycle(config, store.read(), None, now=now, connection=connection)
    with store.locked() as session:
        return _cycle(config, session.state, session, now=now, connection=connection)


def _cycle(
    config: Config, state: State, session: StoreSession | None, *, now: datetime, connection: KeptConnection | None
) -> CycleResult:
    settings = config.settings
    if session is not None and state.meta.first_run is None:
        state = replace(state, meta=replace(state.meta, first_run=now))
    since = tracking_since(settings, state, now=now)
    templates = load_templates(config.templates_dir)
    relevance = Relevance.build(settings, state, since=since)
    calendar: CalendarStore | None = None
    calendar_error: AssistantError | None = None
    with open_mailbox(config) if connection is None else connection.borrow(config) as mailbox:
        try:
            snapshot, cache = read_mailbox(mailbox, relevance, state, settings=settings, now=now)
            meta = replace(state.meta, scan_fingerprint=cache.fingerprint, evidence=cache.evidence)
            state = replace(state, meta=meta, cursors=cache.cursors, messages=cache.messages)
            cal_snapshot = None
            if config.calendar is not None:
                try:
                    calendar, cal_snapshot, cal_meta = _open_calendar(
                        config, state.meta.calendar, state, dry_run=session is None, now=now
                    )
                    state = replace(state, meta=replace(state.meta, calendar=cal_meta))
                except (TempFailError, UnavailableError) as exc:
                    # The calendar must not hold up the mail: its part waits for the next cycle.
                    log.warning("The calendar could not be read this cycle: %s", exc)
                    calendar_error = exc
            plan = decide(
                snapshot, state, settings, templates, now=now, since=since, calendar=cal_snapshot,
                calendar_down=calendar_error is not None,
            )  # fmt: skip
            if session is None:
                return CycleResult(plan, None, calendar_error)
            session.state = state
            report = apply_plan(
                plan, session, mailbox=mailbox, calendar=calendar, now=now, send_digest=_digest_sender(config)
            )
            if calendar is not None and plan.calendar_actions:
                meta = session.state.meta
                advanced = advance_token(calendar, session.state.calendar, meta.calendar)
                session.state = replace(session.state, meta=replace(meta, calendar=advanced))
                session.save()
            return CycleResult(plan, report, calendar_error, session.state)
        finally:
            if calendar is not None:
                calendar.close()
