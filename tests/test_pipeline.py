"""Snapshot -> decide -> apply over an in-memory mailbox: fast checks of the shell's rules
(what is fetched, what is kept, what is written, and that applying twice changes nothing).
The same flows run against Dovecot in test_end_to_end.py and test_lifecycle.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.adapters.store import Store
from assistant.apply import apply_plan
from assistant.config import parse_config
from assistant.core.decide import decide
from assistant.core.relevance import Relevance
from assistant.core.settings import Settings
from assistant.core.state import RequestState
from assistant.cycle import tracking_since
from assistant.snapshot import read_mailbox
from assistant.template_files import load_templates
from tests.conftest import make_message
from tests.fake_mailbox import FakeServer

T0 = datetime.fromisoformat("2026-11-02T09:00:00-07:00")
ME = "alex@example.edu"
TEMPLATES = load_templates(None)


def settings_with(*mentors: str) -> Settings:
    return parse_config({
        "me": {"name": "Alex Rivera", "email": ME, "timezone": "America/Denver"},
        "mail": {"host": "127.0.0.1", "security": "plain", "username": "a", "password": "x"},
        "mentors": [{"name": f"Dr. {m.split('@')[0]}", "email": [m]} for m in mentors],
        "tracking": {"since": "2026-10-01"},
    }).settings  # fmt: skip


def cycle(server: FakeServer, store: Store, settings: Settings, now: datetime):
    """One cycle as `cycle.py` runs it, over the fake mailbox; returns the plan and the report."""
    mailbox = server.connect()
    with store.locked() as session:
        since = tracking_since(settings, session.state, now=now)
        relevance = Relevance.build(settings, session.state, since=since)
        snapshot, cache = read_mailbox(mailbox, relevance, session.state, settings=settings, now=now)
        meta = replace(session.state.meta, scan_fingerprint=cache.fingerprint, evidence=cache.evidence)
        session.state = replace(session.state, meta=meta, cursors=cache.cursors, messages=cache.messages)
        plan = decide(snapshot, session.state, settings, TEMPLATES, now=now, since=since)
        report = apply_plan(plan, session, mailbox=mailbox, calendar=None, now=now)
    return plan, report


def world(tmp_path, *, noise: int = 0):
    server = FakeServer()
    server.deliver("Sent", make_message(sender=ME, to=["jsmith@hospital.org"], subject="Mentorship?", when=T0,
                                        message_id="<req@example.edu>"), when=T0, flags=("\\Seen",))  # fmt: skip
    for i in range(noise):
        when = T0 + timedelta(hours=i)
        server.deliver("INBOX", make_message(sender=f"n{i}@news.example", to=[ME], subject=f"News {i}", when=when,
                                             message_id=f"<n{i}@news.example>"), when=when)  # fmt: skip
        server.deliver("Sent", make_message(sender=ME, to=[f"friend{i}@example.org"], subject=f"Hi {i}", when=when,
                                            message_id=f"<s{i}@example.edu>"), when=when)  # fmt: skip
    return server, Store(tmp_path / "state.json")


def test_only_what_matters_is_kept_and_a_quiet_cycle_fetches_nothing(tmp_path):
    server, store = world(tmp_path, noise=30)
    settings = settings_with("jsmith@hospital.org")
    cycle(server, store, settings, T0 + timedelta(days=3))
    state = store.read()
    kept = {m.message_id for m in state.messages}
    assert kept == {"<req@example.edu>"}  # no newsletter, no mail to friends
    assert server.calls["bodies_fetched"] == 1  # only the request, to quote it later
    server.calls.clear()
    cycle(server, store, settings, T0 + timedelta(days=4))
    assert server.calls["headers_fetched"] == 0 and server.calls["bodies_fetched"] == 0
    assert server.calls["append"] == 0


def test_new_tracking_rules_start_the_scan_over(tmp_path):
    server, store = world(tmp_path, noise=3)
    cycle(server, store, settings_with("jsmith@hospital.org"), T0 + timedelta(days=3))
    assert len(store.read().requests) == 1
    # A friend becomes a prospect: mail sent to them before is a request now.
    cycle(server, store, settings_with("jsmith@hospital.org", "friend1@example.org"), T0 + timedelta(days=3))
    assert {r.mentor for r in store.read().requests.values()} == {"jsmith@hospital.org", "friend1@example.org"}


def test_a_reply_removes_our_draft_into_trash_and_the_flag(tmp_path):
    server, store = world(tmp_path)
    settings = settings_with("jsmith@hospital.org")
    cycle(server, store, settings, T0 + timedelta(days=15))
    assert len(server.folders["Drafts"].messages) == 1
    assert "\\Flagged" in next(iter(server.folders["Sent"].messages.values())).flags
    when = T0 + timedelta(days=16)
    server.deliver("INBOX", make_message(sender="jsmith@hospital.org", to=[ME], subject="Re: Mentorship?", when=when,
                                         message_id="<r@h>", in_reply_to="<req@example.edu>"), when=when)  # fmt: skip
    cycle(server, store, settings, when + timedelta(minutes=1))
    assert server.folders["Drafts"].messages == {}
    assert len(server.folders["Trash"].messages) == 1  # moved, never destroyed
    assert "\\Flagged" not in next(iter(server.folders["Sent"].messages.values())).flags
    assert store.read().requests[next(iter(store.read().requests))].state is RequestState.REPLIED


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10 * 24), min_size=1, max_size=6))
def test_applying_a_plan_twice_changes_nothing_the_second_time(tmp_path_factory, hours):
    tmp_path = tmp_path_factory.mktemp("twice")
    server, store = world(tmp_path)
    settings = settings_with("jsmith@hospital.org")
    now = T0
    for h in hours:
        now += timedelta(hours=h)
        plan, _ = cycle(server, store, settings, now)
        before = {n: {u: (m.raw, frozenset(m.flags)) for u, m in f.messages.items()} for n, f in server.folders.items()}
        with store.locked() as session:
            apply_plan(plan, session, mailbox=server.connect(), calendar=None, now=now)
        after = {n: {u: (m.raw, frozenset(m.flags)) for u, m in f.messages.items()} for n, f in server.folders.items()}
        assert after == before
    assert len(server.folders["Drafts"].messages) <= 1
