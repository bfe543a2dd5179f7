"""The request state machine on plain data: no servers, the clock passed in."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.config import parse_config
from assistant.core import draft as d
from assistant.core.decide import decide
from assistant.core.model import Address, Folders, MailMessage, MailSnapshot
from assistant.core.plan import AddFlags, AppendDraft, DeleteDraft, RemoveFlags
from assistant.core.state import RequestRecord, State
from assistant.template_files import load_templates

T0 = datetime.fromisoformat("2026-11-02T09:00:00-07:00")
ME = "alex@example.edu"
MENTOR = "jsmith@hospital.org"
CONFIG = parse_config({
    "me": {"name": "Alex Rivera", "email": ME, "timezone": "America/Denver"},
    "mail": {"host": "127.0.0.1", "security": "plain", "username": "a", "password": "x"},
    "mentors": [{"name": "Dr. Jane Smith", "email": [MENTOR, "jane@univ.edu"], "project": "anticoagulation"}],
    "tracking": {"since": "2026-10-01"},
}).settings  # fmt: skip
TEMPLATES = load_templates(None)
FOLDERS = Folders(sent="Sent", drafts="Drafts", trash="Trash", watch=("INBOX",))


def sent(mid="<req@example.edu>", when=T0, to=MENTOR, uid=1, flags=frozenset(), refs=()):
    return MailMessage("Sent", uid, mid, when, "Mentorship?", Address("Alex", ME), (Address("Dr. Jane Smith", to),),
                       in_reply_to=refs[-1:], references=refs, flags=flags, body="Dear Dr. Smith,\n")  # fmt: skip


def inbound(mid, when, refs=("<req@example.edu>",), sender=MENTOR, **headers):
    return MailMessage("INBOX", 50, mid, when, "Re: Mentorship?", Address("", sender), (Address("", ME),),
                       in_reply_to=refs[:1], references=refs,
                       headers=tuple((k.replace("_", "-").lower(), v) for k, v in headers.items()))  # fmt: skip


class World:
    """A mailbox and a state, advanced one cycle at a time, applying plans as a server would."""

    def __init__(self):
        self.sent = [sent()]
        self.inbox: list[MailMessage] = []
        self.drafts: list[MailMessage] = []
        self.state = State(requests={}, calendar={})
        self.plans = []

    def cycle(self, now):
        # Every folder searched for answers (the search's findings are in `inbox`).
        searched = frozenset(m.message_id for m in self.sent)
        snap = MailSnapshot(FOLDERS, tuple(self.sent), tuple(self.inbox), tuple(self.drafts), evidence_for=searched)
        plan = decide(snap, self.state, CONFIG, TEMPLATES, now=now, since=date(2026, 10, 1))
        self.plans.append(plan)
        for action in plan.actions:
            if isinstance(action, AppendDraft):
                ours = (("x-mentor-assistant", d.draft_header_value(action.request_id, action.round)),)
                uid = 100 + len(self.drafts)
                self.drafts.append(
                    MailMessage(
                        "Drafts",
                        uid,
                        action.message_id,
                        now,
                        headers=ours,
                        fingerprint=action.fingerprint,
                        flags=frozenset({"\\Draft", "\\Seen"}),
                    )  # as APPEND stores it
                )
            elif isinstance(action, DeleteDraft):
                self.drafts = [m for m in self.drafts if m.uid != action.uid]
            elif isinstance(action, AddFlags | RemoveFlags):
                change = set(action.flags)
                add = isinstance(action, AddFlags)
                self.sent = [
                    replace(m, flags=(m.flags | change) if add else (m.flags - change)) if m.uid == action.uid else m
                    for m in self.sent
                ]
        records = {r.id: r for r in plan.requests}
        for action in plan.actions:  # what apply records after a successful APPEND
            if isinstance(action, AppendDraft):
                r = records[action.request_id]
                records[r.id] = replace(r, draft=replace(r.draft, uid=100))
        self.state = State(requests=records, calendar={})
        return plan

    @property
    def record(self) -> RequestRecord:
        (r,) = self.state.requests.values()
        return r


def test_waiting_then_one_draft_after_two_weeks_and_never_a_second():
    w = World()
    assert w.cycle(T0 + timedelta(days=3)).actions == ()
    assert w.record.state == "waiting"
    assert w.record.next_action_at == T0 + timedelta(days=14)
    plan = w.cycle(T0 + timedelta(days=14, minutes=1))
    kinds = [type(a).__name__ for a in plan.actions]
    assert kinds == ["AppendDraft", "AddFlags", "AddFlags"]  # the draft, then our flag and the round's keyword
    assert w.record.state == "drafted" and w.record.round == 1
    for hours in (1, 2, 30):
        assert w.cycle(T0 + timedelta(days=14, hours=hours)).actions == ()
    assert len(w.drafts) == 1


def test_an_intent_without_append_is_retried_with_the_same_message_id():
    w = World()
    plan = w.cycle(T0 + timedelta(days=15))
    (append,) = [a for a in plan.actions if isinstance(a, AppendDraft)]
    # The APPEND never happened (crash): no draft on the server, the intent in the state, and
    # none of the marks that follow the APPEND on the request message.
    w.drafts.clear()
    w.sent = [replace(m, flags=frozenset()) for m in w.sent]
    r = w.record
    w.state = State(requests={r.id: replace(r, draft=replace(r.draft, uid=None))})
    again = [a for a in w.cycle(T0 + timedelta(days=15, minutes=5)).actions if isinstance(a, AppendDraft)]
    assert [a.message_id for a in again] == [append.message_id]


def test_reply_removes_our_flag_and_untouched_draft():
    w = World()
    w.cycle(T0 + timedelta(days=15))
    w.inbox.append(inbound("<r@h>", T0 + timedelta(days=16)))
    plan = w.cycle(T0 + timedelta(days=16, hours=1))
    assert {type(a).__name__ for a in plan.actions} == {"RemoveFlags", "DeleteDraft", "AddFlags"}  # $MentorAnswered
    assert w.record.state == "replied"
    assert "<r@h>" in w.record.why and "In-Reply-To" in w.record.why
    assert w.drafts == []
    assert w.cycle(T0 + timedelta(days=17)).actions == ()


def test_edited_draft_is_left_and_reported():
    w = World()
    w.cycle(T0 + timedelta(days=15))
    w.drafts = [replace(w.drafts[0], fingerprint="edited-by-resident")]
    w.inbox.append(inbound("<r@h>", T0 + timedelta(days=16)))
    plan = w.cycle(T0 + timedelta(days=16, hours=1))
    assert not any(isinstance(a, DeleteDraft) for a in plan.actions)
    assert any("edited" in n for n in plan.notes)


def test_a_flag_the_resident_set_is_never_removed():
    w = World()
    w.sent = [sent(flags=frozenset({"\\Flagged"}))]
    w.cycle(T0 + timedelta(days=15))
    w.inbox.append(inbound("<r@h>", T0 + timedelta(days=16)))
    plan = w.cycle(T0 + timedelta(days=16, hours=1))
    assert not any(isinstance(a, RemoveFlags) for a in plan.actions)


def test_sending_the_draft_restarts_the_clock_then_round_two_then_closing_then_closed():
    w = World()
    w.cycle(T0 + timedelta(days=14))
    # The resident sends the draft: it leaves Drafts and lands in Sent.
    mid = w.drafts[0].message_id
    w.drafts.clear()
    w.sent.append(sent(mid=mid, when=T0 + timedelta(days=15), uid=2, refs=("<req@example.edu>",)))
    w.cycle(T0 + timedelta(days=15, hours=1))
    assert w.record.state == "followed_up"
    assert w.record.next_action_at == T0 + timedelta(days=29)
    assert w.cycle(T0 + timedelta(days=28)).actions == ()
    plan = w.cycle(T0 + timedelta(days=29))
    (append,) = [a for a in plan.actions if isinstance(a, AppendDraft)]
    assert append.round == 2
    assert b"In-Reply-To: " + mid.encode() in append.raw
    # Round 2 sent; then the closing note.
    mid2 = w.drafts[-1].message_id
    w.drafts.clear()
    w.sent.append(sent(mid=mid2, when=T0 + timedelta(days=30), uid=3, refs=("<req@example.edu>", mid)))
    w.cycle(T0 + timedelta(days=30, hours=1))
    plan = w.cycle(T0 + timedelta(days=44))
    (closing,) = [a for a in plan.actions if isinstance(a, AppendDraft)]
    assert closing.round == 3 and b"suggest a colleague" in closing.raw.replace(b"=\r\n", b"")
    w.drafts.clear()
    w.sent.append(sent(mid=closing.message_id, when=T0 + timedelta(days=45), uid=4, refs=("<req@example.edu>",)))
    w.cycle(T0 + timedelta(days=45, hours=1))
    assert w.record.state == "followed_up"
    w.cycle(T0 + timedelta(days=60))
    assert w.record.state == "closed"
    assert w.cycle(T0 + timedelta(days=90)).actions == ()


def test_deleting_the_draft_dismisses_after_a_grace_period():
    w = World()
    w.cycle(T0 + timedelta(days=14))
    w.drafts.clear()
    w.cycle(T0 + timedelta(days=14, minutes=2))
    assert w.record.state == "drafted"  # maybe being sent right now
    w.cycle(T0 + timedelta(days=14, minutes=20))
    assert w.record.state == "dismissed"
    assert w.cycle(T0 + timedelta(days=60)).actions == ()
    # Writing in the thread again brings it back.
    w.sent.append(sent(mid="<again@example.edu>", when=T0 + timedelta(days=61), uid=5, refs=("<req@example.edu>",)))
    w.cycle(T0 + timedelta(days=61, hours=1))
    assert w.record.state == "followed_up"


def test_automatic_replies_do_not_count():
    w = World()
    w.inbox.append(inbound("<ooo@h>", T0 + timedelta(hours=1), Auto_Submitted="auto-replied"))
    w.cycle(T0 + timedelta(days=1))
    assert w.record.state == "waiting"
    assert "automatic reply" in w.record.why


def test_lost_state_does_not_write_a_second_draft():
    w = World()
    w.cycle(T0 + timedelta(days=15))
    w.state = State()  # the state file is gone
    plan = w.cycle(T0 + timedelta(days=15, hours=1))
    assert not any(isinstance(a, AppendDraft | DeleteDraft) for a in plan.actions)
    assert w.record.state == "drafted"
    # ... and a reply then removes it only when its seal shows it untouched.
    sealed = w.drafts[0]
    w.drafts = [replace(sealed, fingerprint="changed:" + (sealed.fingerprint or ""))]
    w.inbox.append(inbound("<r@h>", T0 + timedelta(days=16)))
    plan = w.cycle(T0 + timedelta(days=16, hours=1))
    assert not any(isinstance(a, DeleteDraft) for a in plan.actions)
    assert w.record.state == "replied"


def test_after_a_lost_state_an_intact_draft_of_ours_is_still_removed_on_an_answer():
    w = World()
    w.cycle(T0 + timedelta(days=15))
    w.state = State()
    w.inbox.append(inbound("<r@h>", T0 + timedelta(days=16)))
    plan = w.cycle(T0 + timedelta(days=16, hours=1))
    assert [type(a).__name__ for a in plan.actions if isinstance(a, DeleteDraft)] == ["DeleteDraft"]


def test_mail_from_the_resident_or_not_to_a_mentor_is_no_request():
    w = World()
    w.sent = [sent(to="friend@example.org")]
    w.cycle(T0 + timedelta(days=20))
    assert w.state.requests == {}


steps = st.lists(st.integers(min_value=1, max_value=20 * 24), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(steps, st.integers(min_value=0, max_value=7), st.booleans())
def test_a_reply_is_never_missed(hours_between_cycles, reply_cycle, via_references):
    """Whatever happened before, a human reply in the thread makes the request `replied`."""
    w = World()
    now = T0
    for i, hours in enumerate(hours_between_cycles):
        now += timedelta(hours=hours)
        if i == reply_cycle:
            refs = ("<other@x>", "<req@example.edu>") if via_references else ("<req@example.edu>",)
            w.inbox.append(inbound("<reply@h>", now - timedelta(minutes=5), refs=refs))
        w.cycle(now)
    w.cycle(now + timedelta(minutes=1))
    if reply_cycle < len(hours_between_cycles):
        assert w.record.state == "replied"
        assert w.drafts == []
    else:
        assert w.record.state != "replied"


@settings(max_examples=40, deadline=None)
@given(steps)
def test_never_two_drafts_for_one_round(hours_between_cycles):
    w = World()
    now = T0
    for hours in hours_between_cycles:
        now += timedelta(hours=hours)
        w.cycle(now)
    appended = [(a.request_id, a.round) for p in w.plans for a in p.actions if isinstance(a, AppendDraft)]
    assert len(appended) == len(set(appended))
    assert len(w.drafts) <= 1
