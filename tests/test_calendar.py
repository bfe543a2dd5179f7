"""Calendar objects on plain data: deterministic rendering, the noise-free hash, SEQUENCE,
the reconcile plan and the read-back of what a calendar app changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.config import parse_config
from assistant.core.calendar import content_hash, desired_objects, goal_basis
from assistant.core.model import CalendarSnapshot, ServerObject
from assistant.core.plan import DeleteCalendarObject, PutCalendarObject
from assistant.core.readback import effective_goals, read_back
from assistant.core.reconcile import mark_created, reconcile
from assistant.core.state import CalendarRecord, ObjectKind

NOW = datetime.fromisoformat("2026-11-24T09:00:00-07:00")
GOAL = {"id": "qi", "title": "First draft", "start": "2026-11-24", "estimate": "2w", "measure": "3-5 pages"}


def config(goals):
    return parse_config({
        "me": {"name": "A", "email": "a@example.edu", "timezone": "America/Denver"},
        "mail": {"host": "127.0.0.1", "security": "plain", "username": "u", "password": "p"},
        "calendar": {"url": "http://127.0.0.1:1/", "username": "u", "password": "p"},
        "mentors": [{"name": "Dr. Jane Smith", "email": "js@h.org"}],
        "goals": goals,
    }).settings  # fmt: skip


def pushed(desired, now=NOW):
    """Records as after a first successful sync."""
    actions, _ = reconcile(desired, {}, now=now)
    return {a.uid: mark_created(a.record, f"/cal/{a.uid}.ics", '"1"') for a in actions}


def by_kind(objects):
    return {o.kind: o for o in objects.values()}


def test_rendering_is_deterministic_and_uids_are_stable():
    a = desired_objects(config([GOAL]), now=NOW)
    b = desired_objects(config([GOAL]), now=NOW + timedelta(hours=5))
    assert a.keys() == b.keys()
    for uid in a:
        assert a[uid].hash == b[uid].hash  # only DTSTAMP and LAST-MODIFIED differ
        assert a[uid].ics != b[uid].ics
    kinds = by_kind(a)
    assert set(kinds) == {"due", "aim", "todo"}
    due, aim, todo = kinds["due"].ics, kinds["aim"].ics, kinds["todo"].ics
    assert "DTSTART;VALUE=DATE:20261215" in due and "SUMMARY:Due: First draft" in due
    assert "Promised to Dr. Jane Smith" in due
    assert "DTSTART;VALUE=DATE:20261208" in aim and "SUMMARY:Aim: First draft" in aim
    for text in (due, aim):
        assert "TRANSP:TRANSPARENT" in text and "BEGIN:VALARM" in text
        assert "Measure: 3-5 pages" in text
    # Reminders the day before at 09:00 in Denver (16:00 UTC), which apps show as such.
    assert "20261214T160000Z" in due and "20261207T160000Z" in aim
    assert "Your own target is Tue Dec 8" in due.replace("\r\n ", "") and "Dec 15" in aim.replace("\r\n ", "")
    assert "BEGIN:VTODO" in todo and "DUE;VALUE=DATE:20261208" in todo and "PRIORITY:1" in todo
    assert "Dec 15" in todo.replace("\r\n ", "")
    assert "CATEGORIES:Mentorship" in todo and "STATUS:NEEDS-ACTION" in todo
    assert "DTSTAMP:" in todo and "LAST-MODIFIED:" in todo and "SEQUENCE:0" in todo


def test_a_vevent_only_calendar_gets_no_task():
    assert set(by_kind(desired_objects(config([GOAL]), now=NOW, vtodo=False))) == {"due", "aim"}


def test_done_goals_stay_visible_marked_done():
    kinds = by_kind(desired_objects(config([{**GOAL, "done": "2026-12-01"}]), now=NOW))
    due = kinds["due"].ics.replace("\r\n ", "")
    assert "SUMMARY:✓ Due: First draft" in due and "Done Tue Dec 1." in due
    assert "VALARM" not in due and "VALARM" not in kinds["aim"].ics  # nothing to be reminded of
    assert "STATUS:COMPLETED" in kinds["todo"].ics and "PERCENT-COMPLETE:100" in kinds["todo"].ics
    # Completed on Dec 1 in Denver, whatever zone reads it (noon local, in UTC).
    assert "COMPLETED:20261201T190000Z" in kinds["todo"].ics


def test_hash_ignores_how_a_server_rewrites_the_object():
    obj = by_kind(desired_objects(config([GOAL]), now=NOW))["due"]
    lines = obj.ics.replace("\r\n ", "").split("\r\n")
    event_start, event_end = lines.index("BEGIN:VEVENT"), lines.index("END:VEVENT")
    body = lines[event_start + 1 : event_end]
    skip = ("BEGIN:VALARM", "END:VALARM", "ACTION", "TRIGGER", "DESCRIPTION:Tomorrow")
    props = [ln for ln in body if not ln.startswith(skip)]
    alarm = [ln for ln in body if ln not in props]
    rewritten = "\r\n".join(
        [*lines[:event_start], "BEGIN:VEVENT", *reversed(props), *alarm, "X-RADICALE-NAME:x.ics", "END:VEVENT",
         *lines[event_end + 1 :]]
    ).replace("PRODID:-//mentor-assistant", "PRODID:-//other")  # fmt: skip
    assert content_hash(rewritten) == obj.hash
    assert content_hash(rewritten.replace("SUMMARY:Due:", "SUMMARY:Moved:")) != obj.hash


def test_reconcile_creates_updates_deletes_and_bumps_sequence_only_when_significant():
    desired = desired_objects(config([GOAL]), now=NOW)
    actions, kept = reconcile(desired, {}, now=NOW)
    assert len(actions) == 3 and kept == ()
    assert all(isinstance(a, PutCalendarObject) and a.etag is None and a.href == "" for a in actions)
    records = pushed(desired)
    assert reconcile(desired_objects(config([GOAL]), now=NOW + timedelta(days=1)), records, now=NOW)[0] == ()
    # A new measure changes only the descriptions: an update, same SEQUENCE.
    changed = desired_objects(config([{**GOAL, "measure": "4 pages"}]), now=NOW)
    actions, _ = reconcile(changed, records, now=NOW)
    assert {a.record.sequence for a in actions} == {0} and {a.etag for a in actions} == {'"1"'}
    # A new estimate moves the dates: SEQUENCE goes up.
    moved = desired_objects(config([{**GOAL, "estimate": "3w"}]), now=NOW)
    actions, _ = reconcile(moved, records, now=NOW)
    assert {a.record.sequence for a in actions} == {1}
    assert all("SEQUENCE:1" in a.ics for a in actions)
    actions, _ = reconcile({}, records, now=NOW)
    assert all(isinstance(a, DeleteCalendarObject) and a.etag == '"1"' for a in actions)


def test_completed_task_moved_event_and_deleted_object_are_read_back():
    cfg = config([GOAL])
    desired = desired_objects(cfg, now=NOW)
    records = pushed(desired)
    kinds = {r.kind: r for r in records.values()}
    todo_ics = by_kind(desired)["todo"].ics.replace("STATUS:NEEDS-ACTION", "STATUS:COMPLETED")
    due_ics = by_kind(desired)["due"].ics.replace("20261215", "20261218").replace("20261216", "20261219")
    snapshot = CalendarSnapshot(True, {
        kinds["todo"].uid: ServerObject(kinds["todo"].href, '"2"', todo_ics),
        kinds["due"].uid: ServerObject(kinds["due"].href, '"3"', due_ics),
        kinds["aim"].uid: ServerObject(kinds["aim"].href, None, None),
    })  # fmt: skip
    records, overrides, notes = read_back(records, snapshot, cfg, {}, now=NOW)
    assert overrides["qi"].done == date(2026, 11, 24) and overrides["qi"].promised == date(2026, 12, 18)
    assert overrides["qi"].moved_from == date(2026, 12, 15)
    assert len(notes) == 3
    goals, kept = effective_goals(cfg.goals, overrides)
    assert goals[0].done == date(2026, 11, 24) and goals[0].promised == date(2026, 12, 18)
    # The deleted aim event is not recreated; the others follow the adopted changes.
    effective = replace(cfg, goals=goals)
    actions, _ = reconcile(
        desired_objects(effective, now=NOW, bases={"qi": goal_basis(cfg.goals[0])}), records, now=NOW
    )
    assert kinds["aim"].uid not in {a.uid for a in actions}
    # Editing the goal in the config supersedes the calendar's changes and brings it back.
    edited = config([{**GOAL, "title": "First full draft"}])
    goals, kept = effective_goals(edited.goals, overrides)
    assert kept == {} and goals[0].promised is None
    actions, _ = reconcile(desired_objects(edited, now=NOW), records, now=NOW)
    assert kinds["aim"].uid in {a.uid for a in actions if isinstance(a, PutCalendarObject) and a.etag is None}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 300)), min_size=1, max_size=5), st.booleans())
def test_syncing_twice_changes_nothing(specs, vtodo):
    goals = [{"id": f"g{i}", "title": f"Goal {i}", "start": (NOW.date() + timedelta(days=s)).isoformat(),
              "estimate": f"{e}d"} for i, (s, e) in enumerate(specs)]  # fmt: skip
    records = pushed(desired_objects(config(goals), now=NOW, vtodo=vtodo))
    again = desired_objects(config(goals), now=NOW + timedelta(days=1), vtodo=vtodo)
    assert reconcile(again, records, now=NOW + timedelta(days=1))[0] == ()


def test_records_survive_the_round_trip():
    from assistant.adapters.state_codec import decode_dataclass, encode_value

    record = CalendarRecord("u", "/c/u.ics", '"e"', "h", ObjectKind.DUE, "g", 2, "s", date(2026, 12, 15), "b", True)
    assert decode_dataclass(CalendarRecord, encode_value(record), "calendar") == record
