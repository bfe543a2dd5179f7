"""The daemon's kept IMAP connection, against a real Dovecot: lent only when it can be
trusted, handed over as a fresh login leaves it, never expunging on the way."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from assistant import mail_connection
from assistant.config import load_config
from assistant.demo.servers.dovecot import start_dovecot
from assistant.mail_connection import KeptConnection
from tests.conftest import MailUser, make_message, write_config

pytestmark = pytest.mark.integration

PASSWORD = "kept-pw"
# Dovecot's own list without UNSELECT: a server that cannot close a folder without CLOSE.
NO_UNSELECT = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT LITERAL+ NAMESPACE UIDPLUS CHILDREN "
               "LIST-EXTENDED CONDSTORE QRESYNC ESEARCH MOVE SPECIAL-USE")  # fmt: skip


@pytest.fixture
def server():
    s = start_dovecot(password=PASSWORD)
    yield s
    s.stop()


def setup(server, tmp_path, name="kept@example.edu"):
    user = MailUser(server, name)
    config = load_config(write_config(tmp_path / "config.toml", user=user, calendar=None))
    return user, config


def resident_deleted_draft(user: MailUser) -> int:
    """A draft the resident marked deleted on another client, not yet expunged there."""
    now = datetime.now().astimezone()
    uid = user.append("Drafts", make_message(sender=user.username, to=["x@h.org"], subject="Half-written",
                      when=now, message_id="<mine@example.edu>"), when=now)  # fmt: skip
    with user.client() as c:
        c.select_folder("Drafts")
        c.add_flags([uid], [b"\\Deleted"])
    return uid


def test_cycles_share_one_login_handed_over_as_a_fresh_login_leaves_it(server, tmp_path):
    user, config = setup(server, tmp_path)
    uid = resident_deleted_draft(user)
    kept = KeptConnection()
    with kept.borrow(config) as box:
        box.detect_folders()
        box.add_flags("Drafts", uid, ("$Seen-by-us",))  # Drafts open read-write
        first = box
    assert first.client._imap.state == "AUTH"  # no folder open between cycles
    with user.client() as c:
        c.create_folder("Archive")  # the resident files mail on the phone meanwhile
    with kept.borrow(config) as box:
        assert box is first
        assert "Archive" in [name for name, _flags in box.list_folders()]  # LIST asked again
    kept.close()
    assert kept.logins == 1
    with user.client() as c:
        c.select_folder("Drafts", readonly=True)
        assert c.search(["UID", str(uid)]) == [uid]  # UNSELECT, never CLOSE: nothing expunged


def test_a_server_without_unselect_gets_a_new_login_instead_of_a_close(tmp_path):
    server = start_dovecot(password=PASSWORD, capabilities=NO_UNSELECT)
    try:
        user, config = setup(server, tmp_path)
        uid = resident_deleted_draft(user)
        kept = KeptConnection()
        with kept.borrow(config) as box:
            box.add_flags("Drafts", uid, ("$Seen-by-us",))
        with kept.borrow(config) as box:
            box.examine("INBOX")  # STATUS only: no folder opened
        with kept.borrow(config) as box:
            box.detect_folders()
        kept.close()
        assert kept.logins == 2  # after the cycle that opened a folder; kept after the one that did not
        with user.client() as c:
            c.select_folder("Drafts", readonly=True)
            assert c.search(["UID", str(uid)]) == [uid]
    finally:
        server.stop()


def test_an_error_in_a_cycle_closes_the_connection(server, tmp_path):
    _user, config = setup(server, tmp_path)
    kept = KeptConnection()

    def failing_cycle() -> None:
        with kept.borrow(config) as box:
            box.detect_folders()
            raise RuntimeError("the cycle failed half-way")

    with pytest.raises(RuntimeError):
        failing_cycle()
    with kept.borrow(config) as box:
        box.detect_folders()
    assert kept.logins == 2


def test_a_connection_the_server_dropped_is_replaced_without_failing_the_cycle(server, tmp_path):
    _user, config = setup(server, tmp_path)
    kept = KeptConnection()
    with kept.borrow(config) as box:
        box.detect_folders()
    assert server.kill_imap_processes() >= 1  # the server restarts, or logs the session out
    with kept.borrow(config) as box:
        assert box.detect_folders().sent == "Sent"
    kept.close()
    assert kept.logins == 2


def test_an_old_connection_or_other_settings_log_in_again(server, tmp_path, monkeypatch):
    _user, config = setup(server, tmp_path)
    kept = KeptConnection()
    with kept.borrow(config) as box:
        box.detect_folders()
    other = replace(config, mail=replace(config.mail, poll_interval=timedelta(minutes=7)))
    with kept.borrow(other) as box:
        box.detect_folders()
    assert kept.logins == 2
    monkeypatch.setattr(mail_connection, "KEEP_FOR", 0.0)
    with kept.borrow(other) as box:
        box.detect_folders()
    kept.close()
    assert kept.logins == 3


@pytest.mark.parametrize("kept", [True, False], ids=["kept", "fresh"])
def test_a_flag_lost_with_the_connection_is_set_next_cycle_not_taken_for_the_residents_unflag(
    mail_user, tmp_path, monkeypatch, kept
):
    """The server drops the connection right after our draft is written: the flag on the
    request fails with it. It is not the resident removing our flag: the next cycle sets it."""
    from assistant.adapters import imap as imap_module
    from assistant.cycle import run_cycle
    from tests.test_end_to_end import NOW, seed

    seed(mail_user)
    config = load_config(write_config(tmp_path / "config.toml", user=mail_user, calendar=None))
    connection = KeptConnection() if kept else None
    real = imap_module.ImapMailbox.append

    def append_then_drop(self, folder, raw, flags, when):
        uid = real(self, folder, raw, flags, when)
        mail_user.server.kill_imap_processes()
        return uid

    monkeypatch.setattr(imap_module.ImapMailbox, "append", append_then_drop)
    first = run_cycle(config, now=NOW, connection=connection)
    assert first.report is not None and any("\\Flagged" in f for f in first.report.failed), first.report
    monkeypatch.setattr(imap_module.ImapMailbox, "append", real)
    run_cycle(config, now=NOW + timedelta(minutes=1), connection=connection)
    if connection is not None:
        connection.close()
    sent = mail_user.messages("Sent").values()
    flags = next(m[b"FLAGS"] for m in sent if b"<req-b@example.edu>" in m[b"BODY[]"])
    assert b"\\Flagged" in flags and b"$MentorNoFlag" not in flags, flags
    drafts = [m for m in mail_user.messages("Drafts").values() if b"rpatel@" in m[b"BODY[]"]]
    assert len(drafts) == 1
