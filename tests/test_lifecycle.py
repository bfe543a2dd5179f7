"""Follow-up drafts through their life, against Dovecot: rounds, threading on the stored
message, the resident sending, writing their own, deleting; a crash mid-apply."""

from __future__ import annotations

import email
import json
import multiprocessing
import os
from datetime import timedelta
from email import policy

import pytest

from assistant.adapters import imap
from tests.conftest import MailUser, write_config
from tests.test_end_to_end import NOW, cli
from tests.test_replies import send

pytestmark = pytest.mark.integration
ROOT = "<root@example.edu>"


def drafts(user: MailUser) -> list[tuple[email.message.EmailMessage, set[bytes]]]:
    out = []
    for m in user.messages("Drafts").values():
        out.append((email.message_from_bytes(m[b"BODY[]"], policy=policy.default), set(m[b"FLAGS"])))
    return out


def resident_sends(user: MailUser, msg: email.message.EmailMessage, when) -> None:
    """What a mail client does on Send: a copy in Sent, the draft removed."""
    with user.client() as c:
        c.select_folder("Drafts")
        uids = c.search(["HEADER", "Message-ID", msg["Message-ID"]])
        del msg["Date"]
        msg["Date"] = email.utils.format_datetime(when)
        c.append("Sent", msg.as_bytes(), flags=[b"\\Seen"], msg_time=when)
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)


def state_of(config, now):
    doc = json.loads(cli(config, "status", "--json", now=now)[1])
    return {r["message_id"]: r for r in doc["requests"]}[ROOT]


def test_each_round_threads_on_the_stored_message(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    send(mail_user, ROOT, ["Dr. Jane Smith <jsmith@hospital.org>"], subject="Mentorship in anticoagulation",
         when=NOW - timedelta(days=14, hours=1))  # fmt: skip
    t = NOW
    expected_refs = [ROOT]
    for round_no, template_line in ((1, "follow up on my note"), (2, "keep this brief"), (3, "suggest a colleague")):
        code, out = cli(config, "once", now=t)
        assert code == 0, out
        ((msg, flags),) = drafts(mail_user)
        assert flags >= {b"\\Draft", b"\\Seen"}
        assert msg["Subject"] == "Re: Mentorship in anticoagulation"
        assert msg["In-Reply-To"] == expected_refs[-1]
        assert msg["References"].split() == expected_refs
        assert f"; round={round_no}; sum=" in msg["X-Mentor-Assistant"]
        assert msg["Message-ID"].endswith(f"@{mail_user.username.split('@')[1]}>")
        body = msg.get_body(preferencelist=("plain",)).get_content()
        assert template_line in body.replace("\r\n", " ").replace("\n", " ")
        assert " wrote:" in body and "\n> " in body.replace("\r\n", "\n")
        assert state_of(config, t)["round"] == round_no
        t += timedelta(hours=2)
        resident_sends(mail_user, msg, t)
        expected_refs = [*expected_refs, msg["Message-ID"]]
        t += timedelta(days=14, hours=1)
    assert cli(config, "once", now=t)[0] == 0
    assert drafts(mail_user) == []
    assert state_of(config, t)["state"] == "closed"


def test_the_residents_own_follow_up_restarts_the_clock_and_removes_our_draft(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    send(mail_user, ROOT, ["jsmith@hospital.org"], when=NOW - timedelta(days=15))
    assert cli(config, "once")[0] == 0
    assert len(drafts(mail_user)) == 1
    send(mail_user, "<own@example.edu>", ["jsmith@hospital.org"], subject="Re: Mentorship", refs=[ROOT],
         when=NOW + timedelta(hours=3))  # fmt: skip
    code, out = cli(config, "once", now=NOW + timedelta(hours=4))
    assert code == 0, out
    assert "already sent a follow-up" in out
    assert drafts(mail_user) == []
    found = state_of(config, NOW + timedelta(hours=4))
    assert found["state"] == "followed_up"
    assert found["next_action_at"].startswith((NOW + timedelta(days=14)).date().isoformat())


def test_deleting_our_draft_dismisses_the_request(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    send(mail_user, ROOT, ["jsmith@hospital.org"], when=NOW - timedelta(days=15))
    assert cli(config, "once")[0] == 0
    with mail_user.client() as c:
        c.select_folder("Drafts")
        uids = c.search(["ALL"])
        c.add_flags(uids, [b"\\Deleted"])
        c.uid_expunge(uids)
    assert cli(config, "once", now=NOW + timedelta(minutes=2))[0] == 0
    assert state_of(config, NOW + timedelta(minutes=2))["state"] == "drafted"  # grace period
    assert cli(config, "once", now=NOW + timedelta(minutes=30))[0] == 0
    assert state_of(config, NOW + timedelta(minutes=30))["state"] == "dismissed"
    code, out = cli(config, "once", now=NOW + timedelta(days=40))
    assert code == 0, out
    assert "write draft" not in out
    assert drafts(mail_user) == []


def _crashing_once(config_path: str, now: str) -> None:
    """`once`, killed right after the APPEND, before the state records it."""
    original = imap.ImapMailbox.append

    def append_then_die(self, *args, **kwargs):
        original(self, *args, **kwargs)
        os._exit(137)

    imap.ImapMailbox.append = append_then_die  # type: ignore[method-assign]
    from click.testing import CliRunner

    from assistant.cli import main

    CliRunner().invoke(main, ["--config", config_path, "once"], env={"MENTOR_ASSISTANT_NOW": now})


def test_a_crash_between_append_and_state_write_still_leaves_one_draft(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    send(mail_user, ROOT, ["jsmith@hospital.org"], when=NOW - timedelta(days=15))
    child = multiprocessing.get_context("fork").Process(target=_crashing_once, args=(str(config), NOW.isoformat()))
    child.start()
    child.join(60)
    assert child.exitcode == 137
    assert len(drafts(mail_user)) == 1  # the APPEND happened
    for minutes in (1, 2, 30):
        code, out = cli(config, "once", now=NOW + timedelta(minutes=minutes))
        assert code == 0, out
        assert "write draft" not in out
    assert len(drafts(mail_user)) == 1
    assert state_of(config, NOW + timedelta(minutes=30))["state"] == "drafted"


def test_without_custom_keywords_only_flagged_is_set(mail_user, tmp_path, monkeypatch):
    """Office 365 offers no custom keywords (PERMANENTFLAGS without \\*)."""
    monkeypatch.setattr(imap.ImapMailbox, "keywords_allowed", lambda self, folder: False)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    send(mail_user, ROOT, ["jsmith@hospital.org"], when=NOW - timedelta(days=15))
    assert cli(config, "once")[0] == 0
    (flags,) = [m[b"FLAGS"] for m in mail_user.messages("Sent").values()]
    assert b"\\Flagged" in flags and b"$MentorFollowUp" not in flags


def test_gmail_deletes_by_moving_to_trash():
    """Gmail's IMAP expunge archives instead of deleting: our draft goes to Trash instead."""
    calls = []

    class RecordedGmail:
        def capabilities(self):
            return (b"IMAP4REV1", b"UIDPLUS", b"MOVE", b"X-GM-EXT-1")

        def select_folder(self, folder, readonly=False):
            calls.append(("select", folder, readonly))
            return {}

        def move(self, uids, folder):
            calls.append(("move", tuple(uids), folder))

        def add_flags(self, *args, **kwargs):
            calls.append(("add_flags", args))

        def uid_expunge(self, uids):
            calls.append(("expunge", tuple(uids)))

        def enable(self, *args):
            return []

    from assistant.config import MailSettings, Secret

    settings = MailSettings(host="imap.gmail.com", port=993, security="tls", username="u", secret=Secret(password="p"))
    box = imap.ImapMailbox(RecordedGmail(), settings)
    box.trash = "[Gmail]/Trash"
    box.delete("[Gmail]/Drafts", 42)
    assert ("move", (42,), "[Gmail]/Trash") in calls
    assert not any(c[0] == "expunge" for c in calls)
