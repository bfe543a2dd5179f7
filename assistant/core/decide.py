"""decide(snapshot, state, settings, now) -> Plan: the whole cycle's judgement, without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from assistant.core.calendar import desired_objects, goal_basis
from assistant.core.digest import compose_digest, digest_due, digest_sections
from assistant.core.mail import decide_mail
from assistant.core.model import CalendarSnapshot, MailSnapshot
from assistant.core.plan import Action, Plan, SendDigest
from assistant.core.readback import effective_goals, read_back
from assistant.core.reconcile import reconcile
from assistant.core.series_edits import keep_residents_edits
from assistant.core.settings import Settings
from assistant.core.state import CalendarRecord, RequestRecord, State
from assistant.core.status import build_status


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
        desired = keep_residents_edits(desired_objects(effective, now=now, vtodo=vtodo, bases=_bases(settings)),
                                       cal_records)  # fmt: skip
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
