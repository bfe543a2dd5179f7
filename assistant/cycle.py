"""One cycle: snapshot -> decide -> plan -> apply. Used by `once`, `run` and `demo`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from assistant.adapters import secrets
from assistant.adapters.caldav import CalendarGone, CalendarStore
from assistant.adapters.imap import Mailbox
from assistant.adapters.smtp import send_to_resident
from assistant.adapters.store import Store, StoreSession
from assistant.apply import ApplyReport, apply_plan
from assistant.calendar_snapshot import advance_token, read_calendar
from assistant.config import Config
from assistant.core.decide import decide
from assistant.core.model import CalendarSnapshot
from assistant.core.plan import Plan
from assistant.errors import TempFailError, UnavailableError
from assistant.snapshot import read_mailbox
from assistant.template_files import load_templates

log = logging.getLogger(__name__)


@dataclass
class CycleResult:
    plan: Plan
    report: ApplyReport | None  # None for a dry run


def tracking_since(config: Config, session: StoreSession, *, now: datetime) -> date:
    """`tracking.since`, else one wait before the first run (older mail is never dug up)."""
    if config.tracking.since:
        return config.tracking.since
    first = session.meta.get("first_run")
    start = datetime.fromisoformat(first) if first else now
    return (start - config.followup.wait - timedelta(days=1)).astimezone(config.tz).date()


def _digest_sender(config: Config) -> Callable[[bytes], None] | None:
    smtp = config.smtp
    if smtp is None or smtp.digest == "off":
        return None

    def send(raw: bytes) -> None:
        password = secrets.resolve(smtp.secret, username=smtp.username, host=smtp.host)
        send_to_resident(smtp, password, me=config.me, raw=raw)

    return send


def _open_calendar(
    config: Config, session: StoreSession, *, dry_run: bool, now: datetime
) -> tuple[CalendarStore | None, CalendarSnapshot | None]:
    """Connect to the calendar (by its remembered URL when there is one) and read what changed."""
    cal = config.calendar
    assert cal is not None
    password = secrets.resolve(cal.secret, username=cal.username, host=cal.url)
    known = session.meta.get("calendar_url") if session.meta.get("calendar_name") == cal.calendar else None
    try:
        store = CalendarStore.connect(cal, password, create=not dry_run, known_url=known)
        try:
            snapshot = read_calendar(store, session.calendar, session.meta, now=now)
        except CalendarGone:
            store.close()
            session.meta.pop("calendar_url", None)
            store = CalendarStore.connect(cal, password, create=not dry_run)
            snapshot = read_calendar(store, session.calendar, session.meta, now=now)
    except UnavailableError:
        if not dry_run:
            raise
        log.info("The calendar %r does not exist yet; it would be created", cal.calendar)
        return None, None
    session.meta["calendar_name"] = cal.calendar
    return store, snapshot


def run_cycle(config: Config, *, now: datetime, dry_run: bool = False) -> CycleResult:
    """Run one full cycle. A dry run reads everything, writes nothing, and returns the plan."""
    store = Store(config.state_path)
    if dry_run:
        return _cycle(config, store.read(), now=now, dry_run=True)
    with store.locked() as session:
        return _cycle(config, session, now=now, dry_run=False)


def _cycle(config: Config, session: StoreSession, *, now: datetime, dry_run: bool) -> CycleResult:
    if not dry_run:
        session.meta.setdefault("first_run", now.isoformat(timespec="seconds"))
    since = tracking_since(config, session, now=now)
    templates = load_templates(config.templates_dir)
    manual = frozenset(session.meta.get("manual", []))
    mail_password = secrets.resolve(config.mail.secret, username=config.mail.username, host=config.mail.host)
    mailbox = Mailbox.connect(config.mail, mail_password)
    calendar: CalendarStore | None = None
    try:
        snapshot = read_mailbox(mailbox, config, since=since, session=session, manual=manual)
        cal_snapshot = None
        if config.calendar is not None:
            try:
                calendar, cal_snapshot = _open_calendar(config, session, dry_run=dry_run, now=now)
            except TempFailError as exc:
                # A flaky calendar server must not hold up the mail: its actions fail
                # this cycle (and are retried), the rest goes ahead.
                log.warning("The calendar could not be read this cycle: %s", exc)
        plan = decide(snapshot, session.state(), config, templates, now=now, since=since, calendar=cal_snapshot)
        if dry_run:
            return CycleResult(plan, None)
        report = apply_plan(
            plan, session, mailbox=mailbox, calendar=calendar, now=now, send_digest=_digest_sender(config)
        )
        if calendar is not None and plan.calendar_actions:
            advance_token(calendar, session.calendar, session.meta)
            session.save()
        return CycleResult(plan, report)
    finally:
        mailbox.close()
        if calendar is not None:
            calendar.close()
