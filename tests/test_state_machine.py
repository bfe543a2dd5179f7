"""A hypothesis state machine that drives a real Dovecot through random sequences of what
residents and mentors do, and checks after every cycle that the assistant never
embarrasses the resident:

1. no draft of ours exists for a request with any evidence of an answer anywhere in the
   mailbox (a human reply in any folder but Drafts, Trash and Junk, or the resident's own
   reply to one);
2. never two drafts for one request and round, ever (also across lost states);
3. no message it did not create was changed: the same bytes in the same folder, and no
   flag changed but ours (\\Flagged and our keywords on request messages).

CI runs a short budget; MENTOR_ASSISTANT_LONG=1 runs the long one by hand (its figures
are in docs/benchmarks.md).
"""

from __future__ import annotations

import email
import hashlib
import itertools
import os
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from assistant.core.draft import request_id_for
from tests.conftest import MailUser, budget, make_message, write_config
from tests.test_end_to_end import cli

pytestmark = [pytest.mark.integration, pytest.mark.soak]
T0 = datetime.fromisoformat("2026-11-02T09:00:00-07:00")
REQUESTS = {  # Message-ID -> (mentor, subject, sent after T0)
    "<req-a@example.edu>": ("jsmith@hospital.org", "QI project", timedelta(0)),
    "<req-b@example.edu>": ("jsmith@hospital.org", "Career advice", timedelta(days=2)),
    "<req-c@example.edu>": ("rpatel@hospital.org", "Transfusion thresholds", timedelta(days=1)),
}
OUR_FLAGS = {b"\\Flagged"}  # and our keywords, which all begin with $Mentor
SEARCHABLE = ("INBOX", "Sent", "Archive")  # where an answer counts; Drafts, Trash and Junk never do
_users = itertools.count()
COUNTS: Counter[str] = Counter()  # what the run did, printed at its end (docs/benchmarks.md quotes it)
DOVECOT = None  # set by the fixture below for the machine's lifetime


def _headers(raw: bytes) -> email.message.Message:
    return email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n", policy=policy.compat32)


class Mailbox:
    """The test's own view of the server, through plain imapclient calls."""

    def __init__(self, user: MailUser) -> None:
        self.user = user

    def all(self) -> dict[str, dict[int, tuple[bytes, frozenset[bytes]]]]:
        out = {}
        with self.user.client() as c:
            for _flags, _sep, name in c.list_folders():
                c.select_folder(name, readonly=True)
                uids = c.search(["ALL"])
                data = c.fetch(uids, ["FLAGS", "BODY.PEEK[]"]) if uids else {}
                out[str(name)] = {u: (d[b"BODY[]"], frozenset(d[b"FLAGS"])) for u, d in data.items()}
        return out

    def append(self, folder: str, raw: bytes, when: datetime, flags: tuple[bytes, ...] = ()) -> None:
        with self.user.client() as c:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            c.append(folder, raw, flags=flags, msg_time=when)

    def move(self, folder: str, uid: int, target: str) -> None:
        with self.user.client() as c:
            if not c.folder_exists(target):
                c.create_folder(target)
            c.select_folder(folder)
            c.move([uid], target)

    def expunge(self, folder: str, uid: int) -> None:
        with self.user.client() as c:
            c.select_folder(folder)
            c.add_flags([uid], [b"\\Deleted"])
            c.uid_expunge([uid])

    def unflag(self, folder: str, uid: int) -> None:
        with self.user.client() as c:
            c.select_folder(folder)
            c.remove_flags([uid], [b"\\Flagged"])


class ResidentLife(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert DOVECOT is not None
        self.user = MailUser(DOVECOT, f"machine{next(_users)}-{os.getpid()}@example.edu")
        self.box = Mailbox(self.user)
        self.dir = Path(f"/tmp/mentor-machine-{uuid.uuid4().hex[:8]}")
        self.dir.mkdir()
        self.config = write_config(self.dir / "config.toml", user=self.user, calendar=None)
        self.now = T0 + timedelta(days=3)
        self.human: dict[str, set[str]] = defaultdict(set)  # request -> human answers' Message-IDs
        self.resident_answers: dict[str, set[str]] = defaultdict(set)  # request -> the resident's replies
        self.drafted: dict[tuple[str, int], set[str]] = defaultdict(set)  # (request, round) -> draft ids seen
        self.counter = itertools.count()
        COUNTS["examples"] += 1
        for mid, (mentor, subject, after) in REQUESTS.items():
            raw = make_message(sender=self.user.username, to=[mentor], subject=subject, when=T0 + after,
                               message_id=mid)  # fmt: skip
            self.box.append("Sent", raw, T0 + after, (b"\\Seen",))

    def teardown(self) -> None:
        for path in sorted(self.dir.glob("*"), reverse=True):
            path.unlink()
        self.dir.rmdir()

    def _mid(self, what: str) -> str:
        return f"<{what}-{next(self.counter)}@hospital.org>"

    def _sent_at(self, request: str) -> datetime:
        return T0 + REQUESTS[request][2]

    # ------------------------------------------------------------- the mentor

    @rule(request=st.sampled_from(sorted(REQUESTS)), folder=st.sampled_from(["INBOX", "Archive", "Junk"]))
    def mentor_replies_in_the_thread(self, request: str, folder: str) -> None:
        mid = self._mid("reply")
        raw = make_message(sender=REQUESTS[request][0], to=[self.user.username], subject=f"Re: {REQUESTS[request][1]}",
                           when=self.now, message_id=mid, in_reply_to=request, references=[request])  # fmt: skip
        self.box.append(folder, raw, self.now)
        self.human[request].add(mid)

    @rule(mentor=st.sampled_from(["jsmith@hospital.org", "rpatel@hospital.org"]))
    def mentor_writes_in_a_new_thread(self, mentor: str) -> None:
        mid = self._mid("new")
        raw = make_message(sender=mentor, to=[self.user.username], subject="Coffee?", when=self.now, message_id=mid)
        self.box.append("INBOX", raw, self.now)
        for request, (who, _s, _a) in REQUESTS.items():
            if who == mentor and self._sent_at(request) < self.now:
                self.human[request].add(mid)

    @rule(request=st.sampled_from(sorted(REQUESTS)), kind=st.sampled_from(["auto", "receipt", "cc-bounce"]))
    def a_machine_answers(self, request: str, kind: str) -> None:
        mentor, subject, _after = REQUESTS[request]
        mid = self._mid(kind)
        if kind == "auto":
            raw = make_message(sender=mentor, to=[self.user.username], subject=f"Automatic reply: {subject}",
                               when=self.now, message_id=mid, in_reply_to=request,
                               extra={"Auto-Submitted": "auto-replied"})  # fmt: skip
        elif kind == "receipt":
            raw = make_message(sender=mentor, to=[self.user.username], subject=f"Read: {subject}", when=self.now,
                               message_id=mid, body="Your message was read on Tuesday.\n")  # fmt: skip
        else:
            raw = make_message(sender="MAILER-DAEMON@example.edu", to=[self.user.username],
                               subject="Undelivered Mail Returned to Sender", when=self.now, message_id=mid,
                               body=f"<plee@hospital.org>: 550 5.1.1 user unknown\n\nMessage-ID: {request}\n",
                               extra={"X-Failed-Recipients": "plee@hospital.org"})  # fmt: skip
        self.box.append("INBOX", raw, self.now)

    # ------------------------------------------------------------- the resident

    @rule(data=st.data(), where=st.sampled_from(["Archive", "Trash"]))
    def resident_files_a_message_away(self, data: st.DataObject, where: str) -> None:
        inbox = sorted(self.box.all().get("INBOX", {}))
        if inbox:
            self.box.move("INBOX", data.draw(st.sampled_from(inbox)), where)

    @rule(request=st.sampled_from(sorted(REQUESTS)))
    def resident_answers_a_reply(self, request: str) -> None:
        everything = self.box.all()
        present = [mid for mid in self.human[request] if self._present(everything, mid)]
        if not present:
            return
        mid = f"<answer-{next(self.counter)}@example.edu>"
        raw = make_message(sender=self.user.username, to=[REQUESTS[request][0]], subject="Re: thanks",
                           when=self.now, message_id=mid, in_reply_to=present[0], references=[request, present[0]],
                           body="Thank you! Tuesday works.\n")  # fmt: skip
        self.box.append("Sent", raw, self.now, (b"\\Seen",))
        self.resident_answers[request].add(mid)

    @rule(request=st.sampled_from(sorted(REQUESTS)))
    def resident_follows_up_on_their_own(self, request: str) -> None:
        raw = make_message(sender=self.user.username, to=[REQUESTS[request][0]], subject=f"Re: {REQUESTS[request][1]}",
                           when=self.now, message_id=f"<own-{next(self.counter)}@example.edu>", in_reply_to=request,
                           references=[request], body="Just checking in.\n")  # fmt: skip
        self.box.append("Sent", raw, self.now, (b"\\Seen",))

    @rule(data=st.data(), how=st.sampled_from(["send", "edit", "delete"]))
    def resident_handles_a_draft(self, data: st.DataObject, how: str) -> None:
        drafts = self.box.all().get("Drafts", {})
        if not drafts:
            return
        uid = data.draw(st.sampled_from(sorted(drafts)))
        raw, _flags = drafts[uid]
        msg = email.message_from_bytes(raw, policy=policy.default)
        if how in ("send", "edit"):
            del msg["Message-ID"]
            del msg["X-Mentor-Assistant"]
            msg["Message-ID"] = f"<tb-{uuid.uuid4()}@example.edu>"
            body = msg.get_body(preferencelist=("plain",))
            if body is not None and how == "edit":
                body.set_content("My own words.\n\n" + body.get_content())
            folder, flags = ("Sent", (b"\\Seen",)) if how == "send" else ("Drafts", (b"\\Draft",))
            self.box.append(folder, msg.as_bytes(), self.now, flags)
        self.box.expunge("Drafts", uid)

    @rule(data=st.data())
    def resident_unflags_a_request(self, data: st.DataObject) -> None:
        sent = self.box.all().get("Sent", {})
        flagged = sorted(u for u, (_r, f) in sent.items() if b"\\Flagged" in f)
        if flagged:
            self.box.unflag("Sent", data.draw(st.sampled_from(flagged)))

    @rule(how=st.sampled_from(["deleted", "zero-filled", "torn", "list"]))
    def the_state_file_is_lost(self, how: str) -> None:
        for path in self.dir.glob("state.json*"):
            if path.name == "state.json" and how != "deleted":
                path.write_bytes({"zero-filled": b"\0" * 512, "torn": b'{"requests": {', "list": b"[]"}[how])
            elif not path.name.endswith(".lock"):
                path.unlink()

    # ------------------------------------------------------------- time and the assistant

    # Several rules run a cycle, so that cycles come as often as the events between them.
    @rule(hours=st.integers(min_value=1, max_value=24 * 6))
    def time_passes_and_a_cycle_runs(self, hours: int) -> None:
        self._cycle(hours)

    @rule(minutes=st.integers(min_value=1, max_value=59))
    def a_cycle_runs_minutes_later(self, minutes: int) -> None:
        self._cycle(minutes / 60)

    @rule(days=st.integers(min_value=7, max_value=20))
    def the_laptop_was_closed_for_days(self, days: int) -> None:
        self._cycle(24 * days)

    @rule(hours=st.integers(min_value=1, max_value=12))
    def a_cycle_runs_hours_later(self, hours: int) -> None:
        self._cycle(hours)

    def _cycle(self, hours: float) -> None:
        before = self.box.all()
        COUNTS["cycles"] += 1
        self.now += timedelta(hours=hours)
        code, out = cli(self.config, "once", now=self.now)
        assert code == 0, out
        after = self.box.all()
        self._nothing_of_theirs_changed(before, after)
        self._no_draft_for_an_answered_request(after)
        self._one_draft_per_round(after)

    # ------------------------------------------------------------- the invariants

    @staticmethod
    def _present(everything: dict[str, dict[int, tuple[bytes, frozenset[bytes]]]], mid: str) -> bool:
        return any(
            (_headers(raw)["Message-ID"] or "").strip() == mid
            for folder in SEARCHABLE
            for raw, _f in everything.get(folder, {}).values()
        )

    def _ours(self, raw: bytes) -> bool:
        head = _headers(raw)
        return bool(head["X-Mentor-Assistant"]) or (head["Message-ID"] or "").startswith("<mentor-assistant.")

    def _no_draft_for_an_answered_request(self, everything) -> None:
        for request in REQUESTS:
            evidence = [m for m in (*self.human[request], *self.resident_answers[request])
                        if self._present(everything, m)]  # fmt: skip
            if not evidence:
                continue
            rid = request_id_for(request)
            ours = [raw for raw, _f in everything.get("Drafts", {}).values()
                    if (_headers(raw)["X-Mentor-Assistant"] or "").startswith(f"request={rid};")]  # fmt: skip
            assert not ours, f"a draft of ours for {request} although {evidence} answered it"

    def _one_draft_per_round(self, everything) -> None:
        for uid, (raw, _f) in everything.get("Drafts", {}).items():
            value = _headers(raw)["X-Mentor-Assistant"] or ""
            if value.startswith("request="):
                rid, round_no = value.split(";")[0][8:], int(value.split("round=")[1].split(";")[0])
                self.drafted[(rid, round_no)].add(f"{uid}:{hashlib.sha256(raw).hexdigest()}")
                assert len(self.drafted[(rid, round_no)]) == 1, f"two drafts for {rid} round {round_no}"

    def _nothing_of_theirs_changed(self, before, after) -> None:
        def theirs(everything):
            out = {}
            for folder, messages in everything.items():
                for uid, (raw, flags) in messages.items():
                    if not self._ours(raw):  # \Recent belongs to an IMAP session, not to the message
                        out[(folder, uid)] = (hashlib.sha256(raw).hexdigest(), flags - {b"\\Recent"})
            return out

        old, new = theirs(before), theirs(after)
        assert old.keys() <= new.keys(), f"messages of the resident's disappeared: {old.keys() - new.keys()}"
        for key, (digest, flags) in old.items():
            assert new[key][0] == digest, f"{key} was changed"
            changed = flags ^ new[key][1]
            assert all(f in OUR_FLAGS or f.startswith(b"$Mentor") for f in changed), f"{key}: {flags} -> {new[key][1]}"

    @invariant()
    def the_state_is_readable(self) -> None:
        COUNTS["steps"] += 1
        code, out = cli(self.config, "status", "--json", now=self.now)
        assert code == 0, out


@pytest.fixture(scope="module", autouse=True)
def _dovecot_for_the_machine(dovecot):
    global DOVECOT  # noqa: PLW0603 - hypothesis builds the machine without arguments
    DOVECOT = dovecot
    yield
    DOVECOT = None
    print(f"\nstate machine: {COUNTS['examples']} examples, {COUNTS['steps']} steps, {COUNTS['cycles']} cycles "
          "against Dovecot; invariant violations: 0")  # fmt: skip


ResidentLife.TestCase.settings = settings(
    max_examples=budget(4, 200),
    stateful_step_count=budget(14, 60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestResidentLife = ResidentLife.TestCase
