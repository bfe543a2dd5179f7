"""Never nudge a mentor who answered: each way residents really handle mail, against Dovecot.

Every test drives `once` the way the daemon would, with the resident's habits played on
the server between cycles: reading on the phone and archiving, deleting, losing the
state file, closing the laptop, un-flagging, and editing drafts in their mail client.
"""

from __future__ import annotations

import email
import json
from datetime import datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from tests.conftest import MailUser, make_message, write_config
from tests.test_end_to_end import cli

pytestmark = pytest.mark.integration
T0 = datetime.fromisoformat("2026-11-02T09:14:00-07:00")  # the request is sent
ROOT = "<req-001@example.edu>"
MENTOR = "jsmith@hospital.org"


def send(user: MailUser, mid: str = ROOT, *, when: datetime = T0, to: str = MENTOR, subject: str = "Mentorship",
         refs: list[str] | None = None, cc: str | None = None, body: str = "Dear Dr. Smith,\n\nCould we talk?\n",
         arrived: datetime | None = None) -> None:  # fmt: skip
    extra = {"Cc": cc} if cc else None
    raw = make_message(sender=f"Alex Rivera <{user.username}>", to=[to], subject=subject, when=when, message_id=mid,
                       in_reply_to=refs[-1] if refs else None, references=refs, body=body, extra=extra)  # fmt: skip
    user.append("Sent", raw, when=arrived or when, flags=(b"\\Seen",))


def receive(user: MailUser, mid: str, *, when: datetime, folder: str = "INBOX", sender: str = MENTOR,
            subject: str = "Re: Mentorship", reply_to: str | None = ROOT, body: str = "Happy to talk.\n",
            extra: dict[str, str] | None = None, arrived: datetime | None = None) -> None:  # fmt: skip
    raw = make_message(sender=sender, to=[user.username], subject=subject, when=when, message_id=mid,
                       in_reply_to=reply_to, references=[reply_to] if reply_to else None, body=body,
                       extra=extra)  # fmt: skip
    with user.client() as c:
        if not c.folder_exists(folder):
            c.create_folder(folder)
    user.append(folder, raw, when=arrived or when)


def move(user: MailUser, mid: str, source: str, target: str) -> None:
    """What a phone does on "Archive": the message leaves the folder for another one."""
    with user.client() as c:
        if not c.folder_exists(target):
            c.create_folder(target)
        c.select_folder(source)
        uids = c.search(["HEADER", "Message-ID", mid])
        assert uids, f"{mid} is not in {source}"
        c.move(uids, target)


def remove(user: MailUser, folder: str, mid: str) -> None:
    with user.client() as c:
        c.select_folder(folder)
        uids = c.search(["HEADER", "Message-ID", mid])
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)


def drafts(user: MailUser) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m[b"BODY[]"], policy=policy.default) for m in user.messages("Drafts").values()]


def flags_of_root(user: MailUser) -> set[bytes]:
    (item,) = [m for m in user.messages("Sent").values() if ROOT.encode() in m[b"BODY[]"].split(b"\r\n\r\n")[0]
               and b"In-Reply-To" not in m[b"BODY[]"].split(b"\r\n\r\n")[0]]  # fmt: skip
    return set(item[b"FLAGS"])


def request(config: Path, now: datetime, mid: str = ROOT) -> dict[str, object]:
    doc = json.loads(cli(config, "status", "--json", now=now)[1])
    return {r["message_id"]: r for r in doc["requests"]}[mid]


def once(config: Path, now: datetime) -> str:
    code, out = cli(config, "once", now=now)
    assert code == 0, out
    return out


@pytest.fixture
def config(mail_user, tmp_path) -> Path:
    return write_config(tmp_path / "config.toml", user=mail_user, calendar=None)


DUE = T0 + timedelta(days=16)
FIXTURES = Path(__file__).parent / "fixtures" / "mail"


# ------------------------------------------------------------------ 1. archived on the phone


def test_a_reply_archived_before_any_cycle_saw_it_stops_the_nudge(mail_user, config):
    send(mail_user)
    receive(mail_user, "<reply@h>", when=T0 + timedelta(days=2))
    send(mail_user, "<thanks@example.edu>", when=T0 + timedelta(days=2, hours=1), subject="Re: Mentorship",
         refs=[ROOT, "<reply@h>"], body="Thank you! Tuesday works.\n")  # fmt: skip
    move(mail_user, "<reply@h>", "INBOX", "Archive")
    once(config, DUE)
    assert drafts(mail_user) == []
    r = request(config, DUE)
    assert r["state"] == "replied"


@pytest.mark.parametrize("draft_waits", [False, True])
def test_an_address_added_later_finds_her_answer_filed_long_ago(mail_user, config, draft_waits):
    """She answered from her personal address, filed away; the resident adds that address
    only after a search of the archive was made: the archive is searched again for it."""
    send(mail_user)
    receive(mail_user, "<personal@gmail>", when=T0 + timedelta(days=3), folder="Archive",
            sender="Jane Smith <jane.smith.md@gmail.com>", subject="Coffee next week?", reply_to=None,
            body="Hi Alex, happy to mentor you - how about Tuesday?\n")  # fmt: skip
    once(config, T0 + timedelta(days=15) if draft_waits else T0 + timedelta(days=13, hours=12))
    assert len(drafts(mail_user)) == int(draft_waits)  # the address was not known yet
    text = config.read_text()
    config.write_text(text.replace(f'"{MENTOR}", ', f'"{MENTOR}", "jane.smith.md@gmail.com", ', 1))
    assert config.read_text() != text
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


def test_a_reply_deleted_after_reading_is_proven_by_the_residents_answer(mail_user, config):
    send(mail_user)
    send(mail_user, "<thanks@example.edu>", when=T0 + timedelta(days=2, hours=1), subject="Re: Mentorship",
         refs=[ROOT, "<gone@h>"], body="Thank you! Tuesday works.\n")  # fmt: skip
    once(config, DUE)
    assert drafts(mail_user) == []
    r = request(config, DUE)
    assert r["state"] == "replied" and "<gone@h>" in r["why"]


def test_a_reply_archived_while_our_draft_waits_removes_it_into_trash(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    assert len(drafts(mail_user)) == 1 and b"\\Flagged" in flags_of_root(mail_user)
    receive(mail_user, "<late@h>", when=T0 + timedelta(days=15, hours=2), folder="Archive/2026")
    once(config, T0 + timedelta(days=15, hours=3))
    assert drafts(mail_user) == []
    assert len(mail_user.messages("Trash")) == 1  # moved, so even a mistake can be undone
    assert b"\\Flagged" not in flags_of_root(mail_user)
    r = request(config, T0 + timedelta(days=15, hours=3))
    assert r["state"] == "replied" and "Archive/2026" in r["why"]


def test_a_reply_filed_by_a_server_rule_into_a_subfolder_counts(mail_user, config):
    send(mail_user)
    receive(mail_user, "<filed@h>", when=T0 + timedelta(days=1), folder="Faculty/Smith", reply_to=None,
            subject="Your note")  # fmt: skip
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


def test_in_junk_and_trash_only_a_reply_naming_the_thread_is_evidence(mail_user, config):
    send(mail_user)
    # Mail from the mentor that does not name the thread, in Junk or Trash: old or unrelated.
    receive(mail_user, "<spam@h>", when=T0 + timedelta(days=1), folder="Junk", reply_to=None, subject="Newsletter")
    receive(mail_user, "<trashed@h>", when=T0 + timedelta(days=1), folder="Trash", sender="jane.smith@university.edu",
            reply_to=None, subject="Unrelated")  # fmt: skip
    once(config, DUE)
    assert len(drafts(mail_user)) == 1


@pytest.mark.parametrize("folder", ["Trash", "Junk"])
def test_a_reply_swiped_to_trash_or_filed_as_spam_is_still_an_answer(mail_user, config, folder):
    send(mail_user)
    receive(mail_user, "<answer@h>", when=T0 + timedelta(days=2), folder=folder)  # names the thread
    once(config, DUE)
    assert drafts(mail_user) == []
    r = request(config, DUE)
    assert r["state"] == "replied" and f"in {folder}" in r["why"]


# ------------------------------------------------------------------ 2. a lost state file

DAMAGE = {
    "deleted": None,
    "truncated": b'{"requests": {"1": {"id": "',
    "zero-filled": b"\0" * 2048,
    "a JSON list": b"[]",
}


def lose_state(config: Path, how: str) -> None:
    state = config.parent / "state.json"
    for backup in config.parent.glob("state.json.*"):
        backup.unlink()  # the backups are lost too: the servers alone must tell
    if DAMAGE[how] is None:
        state.unlink()
    else:
        state.write_bytes(DAMAGE[how])


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_after_a_lost_state_no_draft_for_an_answered_request(mail_user, config, how):
    send(mail_user)
    once(config, T0 + timedelta(days=3))
    receive(mail_user, "<reply@h>", when=T0 + timedelta(days=4))
    move(mail_user, "<reply@h>", "INBOX", "Archive")
    lose_state(config, how)
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


@pytest.mark.parametrize("how", sorted(DAMAGE))
def test_after_a_lost_state_no_second_draft_for_a_dismissed_round(mail_user, config, how):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    remove(mail_user, "Drafts", ours["Message-ID"])
    once(config, T0 + timedelta(days=15, hours=1))
    assert request(config, T0 + timedelta(days=15, hours=1))["state"] == "dismissed"
    lose_state(config, how)
    for days in (16, 30, 45):
        once(config, T0 + timedelta(days=days))
        assert drafts(mail_user) == []
    assert request(config, T0 + timedelta(days=45))["state"] == "dismissed"


# ------------------------------------------------------------------ 3. subjects that sound automatic


@pytest.mark.parametrize("subject", ["Away until Monday - yes, let's talk", "Absence next week - happy to meet after",
                                     "Out of office today, but yes", "Automatic reply? No, a real one"])  # fmt: skip
def test_a_human_reply_is_not_taken_for_an_automatic_one_by_its_subject(mail_user, config, subject):
    send(mail_user)
    receive(mail_user, "<human@h>", when=T0 + timedelta(days=1), subject=subject,
            body="Yes, let's talk.\n\nOn Mon, Nov 2, 2026, Alex Rivera wrote:\n> Could we talk?\n")  # fmt: skip
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


# ------------------------------------------------------------------ 4. one mentor, two requests


def test_an_answer_that_cannot_be_tied_to_one_request_answers_each(mail_user, config):
    send(mail_user, "<older@example.edu>", subject="QI project")
    send(mail_user, "<newer@example.edu>", when=T0 + timedelta(days=3), subject="Career advice")
    receive(mail_user, "<new-thread@h>", when=T0 + timedelta(days=4), reply_to=None, subject="Coffee next week?")
    once(config, T0 + timedelta(days=20))
    assert drafts(mail_user) == []
    for mid in ("<older@example.edu>", "<newer@example.edu>"):
        r = request(config, T0 + timedelta(days=20), mid)
        assert r["state"] == "replied" and "not tied to one request" in r["why"]


# ------------------------------------------------------------------ 5. clock skew


def test_a_new_thread_reply_dated_before_the_request_counts_when_it_arrived_after(mail_user, config):
    send(mail_user)
    receive(mail_user, "<skewed@h>", when=T0 - timedelta(minutes=30), arrived=T0 + timedelta(hours=2), reply_to=None,
            subject="Re: your note")  # fmt: skip
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


# ------------------------------------------------------------------ 6. machines that are not answers

MACHINES = [
    "automatic-swedish-outlook.eml", "automatic-polish-outlook.eml", "automatic-chinese-zidonghuifu.eml",
    "automatic-chinese-zidongdafu.eml", "automatic-exchange-oof.eml", "automatic-icloud-vacation.eml",
    "receipt-outlook-read-plain.eml", "receipt-lotus-notes.eml", "receipt-german-gelesen.eml",
    "receipt-mdn-exchange.eml", "calendar-outlook-accepted.eml", "calendar-google-declined.eml",
    "delayed-postfix-dsn.eml", "list-mentor-via-list.eml",
]  # fmt: skip


def deliver_fixture(user: MailUser, name: str, *, folder: str = "INBOX") -> None:
    """A fixture as the resident's server would hold it: addressed to them, arrived after the request."""
    raw = (FIXTURES / name).read_bytes().replace(b"alex.rivera@example.edu", user.username.encode())
    user.append(folder, raw, when=T0 + timedelta(hours=1))


@pytest.mark.parametrize("name", MACHINES)
def test_machine_messages_are_not_answers(mail_user, config, name):
    send(mail_user)
    deliver_fixture(mail_user, name)
    once(config, T0 + timedelta(days=15))
    assert len(drafts(mail_user)) == 1, name
    r = request(config, T0 + timedelta(days=15))
    assert r["state"] in ("drafted", "paused"), (name, r["why"])


def test_an_out_of_office_with_a_return_date_pauses_until_after_it(mail_user, config):
    send(mail_user)
    deliver_fixture(mail_user, "automatic-exchange-oof.eml")  # back on Mon Nov 16
    due = T0 + timedelta(days=14, hours=1)
    once(config, due)
    r = request(config, due)
    assert r["state"] == "paused" and drafts(mail_user) == []
    resume = datetime.fromisoformat(str(r["next_action_at"]))
    assert resume.date().isoformat() == "2026-11-17"  # a workday after the return
    once(config, resume + timedelta(minutes=1))
    assert len(drafts(mail_user)) == 1


# ------------------------------------------------------------------ 7. a Cc'd address bounces


def test_a_bounce_of_a_cc_address_does_not_bounce_the_request(mail_user, config):
    send(mail_user, cc="plee@hospital.org")
    deliver_fixture(mail_user, "bounce-dsn-cc-only.eml")
    out = once(config, T0 + timedelta(days=1))
    assert "plee@hospital.org" in out and "stands" in out
    assert request(config, T0 + timedelta(days=1))["state"] == "waiting"
    once(config, T0 + timedelta(days=15))
    assert len(drafts(mail_user)) == 1


# ------------------------------------------------------------------ 8. a late copy in Sent


def test_the_residents_own_follow_up_that_reaches_sent_late_removes_our_draft(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    assert len(drafts(mail_user)) == 1
    # Written on the phone on day 14, before our draft; its copy reaches Sent on day 15.
    send(mail_user, "<phone@example.edu>", when=T0 + timedelta(days=14), subject="Re: Mentorship", refs=[ROOT],
         body="Just following up!\n")  # fmt: skip
    once(config, T0 + timedelta(days=15, hours=2))
    assert drafts(mail_user) == []
    r = request(config, T0 + timedelta(days=15, hours=2))
    assert r["state"] == "followed_up"
    assert b"\\Flagged" not in flags_of_root(mail_user)


# ------------------------------------------------------------------ 9. the laptop closed for a weekend


def test_a_draft_deleted_while_the_daemon_was_off_is_dismissed_at_once(mail_user, config):
    send(mail_user)
    friday = T0 + timedelta(days=15)
    once(config, friday)
    (ours,) = drafts(mail_user)
    remove(mail_user, "Drafts", ours["Message-ID"])
    monday = friday + timedelta(days=3)
    once(config, monday)
    r = request(config, monday)
    assert r["state"] == "dismissed"
    assert b"$MentorDismissed" in flags_of_root(mail_user)
    assert b"\\Flagged" not in flags_of_root(mail_user)


# ------------------------------------------------------------------ 10, 11. flags


def test_our_flag_and_keyword_are_set_and_a_removed_flag_is_not_put_back(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    assert {b"\\Flagged", b"$MentorFollowUp"} <= flags_of_root(mail_user)  # PERMANENTFLAGS read from SELECT
    with mail_user.client() as c:
        c.select_folder("Sent")
        c.remove_flags(c.search(["HEADER", "Message-ID", ROOT]), [b"\\Flagged"])
    for hours in (1, 2, 30):
        once(config, T0 + timedelta(days=15, hours=hours))
        assert b"\\Flagged" not in flags_of_root(mail_user)
    # Even with the state lost, the keyword tells that the flag was declined.
    (config.parent / "state.json").unlink()
    for backup in config.parent.glob("state.json.*"):
        backup.unlink()
    once(config, T0 + timedelta(days=17))
    assert b"\\Flagged" not in flags_of_root(mail_user)


def test_our_flag_comes_off_when_the_resident_follows_up(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    # Sent from the mail client: a copy in Sent, the draft removed.
    raw = ours.as_bytes().replace(b"X-Mentor-Assistant", b"X-Was")
    mail_user.append("Sent", raw, when=T0 + timedelta(days=15, hours=1), flags=(b"\\Seen",))
    remove(mail_user, "Drafts", ours["Message-ID"])
    once(config, T0 + timedelta(days=15, hours=2))
    assert request(config, T0 + timedelta(days=15, hours=2))["state"] == "followed_up"
    assert not {b"\\Flagged", b"$MentorFollowUp"} & flags_of_root(mail_user)


# ------------------------------------------------------------------ found by an independent hostile pass


@pytest.mark.parametrize("folder", ["Sent Items", "Mentors/Sent", "Projects/Spam", "Archive/Trash", "Outbox"])
def test_answers_in_folders_whose_names_sound_skippable_are_found(mail_user, config, folder):
    send(mail_user)
    receive(mail_user, "<filed@h>", when=T0 + timedelta(days=1), folder=folder)
    once(config, DUE)
    assert drafts(mail_user) == [], folder
    assert request(config, DUE)["state"] == "replied"


def test_the_residents_reply_in_a_second_sent_folder_proves_an_answer(mail_user, config):
    send(mail_user)
    raw = make_message(sender=mail_user.username, to=[MENTOR], subject="Re: Mentorship", when=T0 + timedelta(days=2),
                       message_id="<phone@example.edu>", in_reply_to="<deleted@h>", references=[ROOT, "<deleted@h>"],
                       body="Thank you! Tuesday works.\n")  # fmt: skip
    with mail_user.client() as c:
        c.create_folder("Sent Messages")
    mail_user.append("Sent Messages", raw, when=T0 + timedelta(days=2))
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


@pytest.mark.parametrize("kind", ["through a list, on the thread", "a calendar invitation", "a short note",
                                  "to an address not configured"])  # fmt: skip
def test_these_are_answers_too(mail_user, config, kind):
    send(mail_user)
    when = T0 + timedelta(days=1)
    if kind == "through a list, on the thread":
        receive(mail_user, "<list@h>", when=when, extra={"List-Id": "<residents.hospital.org>"},
                body="Happy to talk.\n\n> Could we talk?\n")  # fmt: skip
    elif kind == "a calendar invitation":
        receive(mail_user, "<invite@h>", when=when, reply_to=None,
                subject="Invitation: Mentorship chat @ Tue Nov 10, 2026 4pm - 4:30pm (MST)")  # fmt: skip
    elif kind == "a short note":
        receive(mail_user, "<short@h>", when=when, body="Your note was read on my phone; yes, let's meet.\n")
    else:
        raw = make_message(sender=MENTOR, to=["alex@other-address.example.org"], subject="Coffee?", when=when,
                           message_id="<alias@h>")  # fmt: skip
        mail_user.append("INBOX", raw, when=when)
    once(config, DUE)
    assert drafts(mail_user) == [], kind
    assert request(config, DUE)["state"] == "replied"


def test_an_answer_seen_then_deleted_stays_an_answer_after_a_lost_state(mail_user, config):
    send(mail_user)
    receive(mail_user, "<seen@h>", when=T0 + timedelta(days=2))
    once(config, T0 + timedelta(days=3))
    assert request(config, T0 + timedelta(days=3))["state"] == "replied"
    move(mail_user, "<seen@h>", "INBOX", "Trash")
    lose_state(config, "deleted")
    once(config, DUE)
    assert drafts(mail_user) == []
    assert request(config, DUE)["state"] == "replied"


def test_a_draft_deleted_unseen_is_not_written_again_from_a_restored_backup(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    remove(mail_user, "Drafts", ours["Message-ID"])
    # The state is damaged; the backup restored holds the intent saved before the APPEND.
    state = config.parent / "state.json"
    backup = config.parent / "state.json.1"
    assert backup.exists()
    state.write_bytes(b"\0" * 64)
    for hours in (1, 2, 30):
        once(config, T0 + timedelta(days=15, hours=hours))
        assert drafts(mail_user) == []


def test_a_follow_up_that_reached_sent_late_counts_from_when_it_appeared(mail_user, config):
    send(mail_user)
    send(mail_user, "<late@example.edu>", when=T0 + timedelta(days=1), arrived=T0 + timedelta(days=13),
         subject="Re: Mentorship", refs=[ROOT], body="Following up!\n")  # fmt: skip
    once(config, T0 + timedelta(days=15))
    assert drafts(mail_user) == []
    r = request(config, T0 + timedelta(days=15))
    assert r["state"] == "followed_up"
    assert datetime.fromisoformat(str(r["next_action_at"])) >= T0 + timedelta(days=27)


def test_a_flag_the_resident_set_again_is_theirs(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    with mail_user.client() as c:
        c.select_folder("Sent")
        uids = c.search(["HEADER", "Message-ID", ROOT])
        c.remove_flags(uids, [b"\\Flagged"])
    once(config, T0 + timedelta(days=15, hours=1))
    with mail_user.client() as c:
        c.select_folder("Sent")
        c.add_flags(c.search(["HEADER", "Message-ID", ROOT]), [b"\\Flagged"])
    receive(mail_user, "<answer@h>", when=T0 + timedelta(days=15, hours=2))
    once(config, T0 + timedelta(days=15, hours=3))
    assert request(config, T0 + timedelta(days=15, hours=3))["state"] == "replied"
    assert b"\\Flagged" in flags_of_root(mail_user)


def test_an_edited_draft_sent_before_a_lost_state_is_a_follow_up(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    sent = email.message_from_bytes(ours.as_bytes(), policy=policy.default)
    del sent["Message-ID"], sent["X-Mentor-Assistant"]
    sent["Message-ID"] = "<tb-sent@example.edu>"
    mail_user.append("Sent", sent.as_bytes(), when=T0 + timedelta(days=15, hours=1), flags=(b"\\Seen",))
    remove(mail_user, "Drafts", ours["Message-ID"])
    lose_state(config, "deleted")
    once(config, T0 + timedelta(days=15, hours=2))
    r = request(config, T0 + timedelta(days=15, hours=2))
    assert r["state"] == "followed_up", r["why"]
    assert drafts(mail_user) == []
    assert b"\\Flagged" not in flags_of_root(mail_user)


def test_a_quiet_cycle_asks_no_folder_and_a_new_message_only_its_own(mail_user, config, monkeypatch):
    from assistant.adapters import imap

    send(mail_user)
    receive(mail_user, "<news@lists>", when=T0 + timedelta(days=1), folder="Archive", sender="news@lists.example",
            subject="Weekly news", reply_to=None)  # fmt: skip
    asked: list[str] = []
    original = imap.ImapMailbox.search_evidence

    def counting(self, folder, queries, *, after_uid=0):
        asked.append(folder)
        return original(self, folder, queries, after_uid=after_uid)

    monkeypatch.setattr(imap.ImapMailbox, "search_evidence", counting)
    once(config, DUE)
    assert {"Archive", "Trash"} <= set(asked), asked  # the first search: every folder, Trash by thread
    asked.clear()
    once(config, DUE + timedelta(minutes=5))
    assert asked == []  # nothing arrived anywhere: no SEARCH at all
    receive(mail_user, "<more@lists>", when=DUE, folder="Archive", sender="news@lists.example",
            subject="More news", reply_to=None, arrived=DUE + timedelta(minutes=6))  # fmt: skip
    once(config, DUE + timedelta(minutes=10))
    assert set(asked) <= {"Archive"}, asked  # only where something arrived (a few: read, not searched)
    assert drafts(mail_user) and request(config, DUE + timedelta(minutes=10))["state"] == "drafted"
