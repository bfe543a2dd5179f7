# ruff: noqa: F811 - `config` is the shared fixture of tests/test_evidence.py
"""An older state than the mailbox (a backup restored, a file copied back, a state lost
right after `untrack`): the marks on the server win, and only ever move a request forward."""

from __future__ import annotations

import email
import shutil
from datetime import timedelta
from email import policy

import pytest

from tests.test_end_to_end import cli
from tests.test_evidence import T0, config, drafts, flags_of_root, move, once, receive, remove, request, send  # noqa: F401

pytestmark = pytest.mark.integration


def restore_the_day_old_backup(config) -> None:
    """Everything but the oldest backup (.3) is unusable: the store restores .3."""
    for name in ("state.json", "state.json.1", "state.json.2"):
        (config.parent / name).write_bytes(b"\0" * 512)


def test_a_sent_round_is_not_drafted_again_after_an_older_backup(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=3))
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    sent = email.message_from_bytes(ours.as_bytes(), policy=policy.default)
    del sent["Message-ID"], sent["X-Mentor-Assistant"]  # as a client sends it
    sent["Message-ID"] = "<sent-round-1@example.edu>"
    mail_user.append("Sent", sent.as_bytes(), when=T0 + timedelta(days=15, hours=1), flags=(b"\\Seen",))
    remove(mail_user, "Drafts", ours["Message-ID"])
    once(config, T0 + timedelta(days=15, hours=2))
    assert request(config, T0 + timedelta(days=15, hours=2))["state"] == "followed_up"
    restore_the_day_old_backup(config)
    code, out = cli(config, "-v", "once", now=T0 + timedelta(days=16))
    assert code == 0 and "Restored the state from the backup" in out, out
    assert request(config, T0 + timedelta(days=16))["round"] == 1
    once(config, T0 + timedelta(days=31))
    rounds = [d["X-Mentor-Assistant"] for d in drafts(mail_user)]
    assert all("round=1;" not in r for r in rounds), rounds  # round 2 may come; round 1 never again


def test_a_dismissed_round_stays_dismissed_after_an_older_backup(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=3))
    once(config, T0 + timedelta(days=15))
    (ours,) = drafts(mail_user)
    remove(mail_user, "Drafts", ours["Message-ID"])
    once(config, T0 + timedelta(days=15, hours=1))
    assert request(config, T0 + timedelta(days=15, hours=1))["state"] == "dismissed"
    restore_the_day_old_backup(config)
    for days in (16, 30, 45):
        once(config, T0 + timedelta(days=days))
        assert drafts(mail_user) == [], f"day {days}: a draft for a round the resident dismissed"


def test_an_answer_remembered_on_the_message_survives_an_older_backup(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=1))
    shutil.copy2(config.parent / "state.json", config.parent / "state.json.3")  # a day-old backup
    receive(mail_user, "<answer@hospital.org>", when=T0 + timedelta(days=3))
    once(config, T0 + timedelta(days=4))
    assert request(config, T0 + timedelta(days=4))["state"] == "replied"
    assert b"$MentorAnswered" in flags_of_root(mail_user)
    move(mail_user, "<answer@hospital.org>", "INBOX", "Trash")  # read on the phone, swiped away
    restore_the_day_old_backup(config)
    once(config, T0 + timedelta(days=16))
    assert drafts(mail_user) == [] and request(config, T0 + timedelta(days=16))["state"] == "replied"


@pytest.mark.parametrize("lost", ["every state file", "the file, the backups older than the untrack"])
def test_an_untracked_request_stays_untracked_whatever_happens_to_the_state(mail_user, config, lost):
    send(mail_user)
    once(config, T0 + timedelta(days=3))
    once(config, T0 + timedelta(days=4))
    rid = request(config, T0 + timedelta(days=4))["id"]
    code, out = cli(config, "untrack", rid, now=T0 + timedelta(days=4))
    assert code == 0, out
    assert b"$MentorUntracked" in flags_of_root(mail_user)  # remembered on the message at once
    if lost == "every state file":
        for path in config.parent.glob("state.json*"):
            path.unlink()
    else:
        (config.parent / "state.json").unlink()
    for days in (16, 30):
        once(config, T0 + timedelta(days=days))
    assert drafts(mail_user) == []
    assert request(config, T0 + timedelta(days=30))["state"] == "closed"
