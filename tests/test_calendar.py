"""Calendar objects: deterministic rendering, a hash that ignores server noise, the reconcile plan."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.config import parse_config
from assistant.core.calendar import content_hash, desired_objects
from assistant.core.model import CalendarRecord
from assistant.core.plan import DeleteCalendarObject, PutCalendarObject
from assistant.core.reconcile import reconcile

NOW = datetime.fromisoformat("2026-11-24T09:00:00-07:00")


def config(goals):
    return parse_config({
        "me": {"name": "A", "email": "a@example.edu", "timezone": "America/Denver"},
        "mail": {"host": "127.0.0.1", "security": "plain", "username": "u", "password": "p"},
        "calendar": {"url": "http://127.0.0.1:1/", "username": "u", "password": "p"},
        "goals": goals,
    })  # fmt: skip


GOAL = {"id": "qi", "title": "First draft", "start": "2026-11-24", "estimate": "2w", "measure": "3-5 pages"}


def test_rendering_is_deterministic_and_uids_are_stable():
    a = desired_objects(config([GOAL]), now=NOW)
    b = desired_objects(config([GOAL]), now=NOW + timedelta(hours=5))
    assert a.keys() == b.keys()
    for uid in a:
        assert a[uid].hash == b[uid].hash  # only DTSTAMP differs
        assert a[uid].ics != b[uid].ics
    texts = [o.ics for o in a.values()]
    assert any("DTSTART;VALUE=DATE:20261215" in t and "SUMMARY:Due to" in t for t in texts)
    assert any("DTSTART;VALUE=DATE:20261208" in t and "SUMMARY:Aim: First draft" in t for t in texts)
    assert all("TRANSP:TRANSPARENT" in t and "BEGIN:VALARM" in t for t in texts)


def test_hash_ignores_how_a_server_rewrites_the_object():
    (obj, _aim) = desired_objects(config([GOAL]), now=NOW).values()
    lines = obj.ics.replace("\r\n ", "").split("\r\n")
    event_start, event_end = lines.index("BEGIN:VEVENT"), lines.index("END:VEVENT")
    body = lines[event_start + 1 : event_end]
    props = [
        ln
        for ln in body
        if not ln.startswith(("BEGIN:VALARM", "END:VALARM", "ACTION", "TRIGGER", "DESCRIPTION:Tomorrow"))
    ]
    alarm = [ln for ln in body if ln not in props]
    rewritten = "\r\n".join(
        [*lines[:event_start], "BEGIN:VEVENT", *reversed(props), *alarm, "X-RADICALE-NAME:x.ics", "END:VEVENT",
         *lines[event_end + 1 :]]
    ).replace("PRODID:-//mentor-assistant", "PRODID:-//other")  # fmt: skip
    assert content_hash(rewritten) == obj.hash
    assert content_hash(rewritten.replace("SUMMARY:Due to", "SUMMARY:Moved")) != obj.hash


def test_reconcile_creates_updates_deletes_and_leaves_the_rest():
    desired = desired_objects(config([GOAL]), now=NOW)
    actions, _kept = reconcile(desired, {})
    assert [type(a) for a in actions] == [PutCalendarObject, PutCalendarObject]
    assert all(a.etag is None and a.href == "" for a in actions)
    records = {uid: CalendarRecord(uid, f"http://x/{uid}.ics", '"1"', o.hash, "qi") for uid, o in desired.items()}
    assert reconcile(desired, records) == ((), tuple(records[u] for u in sorted(records)))
    changed = desired_objects(config([{**GOAL, "estimate": "3w"}]), now=NOW)
    actions, _ = reconcile(changed, records)
    assert {a.etag for a in actions} == {'"1"'}
    actions, _ = reconcile({}, records)
    assert all(isinstance(a, DeleteCalendarObject) and a.etag == '"1"' for a in actions)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 300)), min_size=1, max_size=5))
def test_syncing_twice_changes_nothing(specs):
    goals = [{"id": f"g{i}", "title": f"Goal {i}", "start": (NOW.date() + timedelta(days=s)).isoformat(),
              "estimate": f"{e}d"} for i, (s, e) in enumerate(specs)]  # fmt: skip
    desired = desired_objects(config(goals), now=NOW)
    actions, _ = reconcile(desired, {})
    records = {a.uid: CalendarRecord(a.uid, f"http://x/{a.uid}.ics", '"e"', a.hash, a.goal) for a in actions}
    again = desired_objects(config(goals), now=NOW + timedelta(days=1))
    assert reconcile(again, records)[0] == ()
