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
