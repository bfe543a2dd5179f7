"""The adapters against real servers: folder detection, check-config, Xandikos, idempotent apply."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from assistant.adapters.caldav import CalendarStore
from assistant.adapters.imap import ImapMailbox
from assistant.adapters.store import Store
from assistant.apply import apply_plan
from assistant.config import load_config
from assistant.core.decide import decide
from assistant.core.relevance import Relevance
from assistant.cycle import tracking_since
from assistant.demo.servers.dovecot import start_dovecot
from assistant.errors import EX_UNAVAILABLE
from assistant.snapshot import read_mailbox
from assistant.template_files import load_templates
from tests.conftest import MailUser, write_config
from tests.test_end_to_end import GOAL, NOW, calendar_objects, cli, seed, server_fingerprint

pytestmark = pytest.mark.integration


def test_check_config_logs_in_and_shows_folders_and_calendar(mail_user, radicale, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale)
    code, out = cli(config, "check-config")
    assert code == 0, out
    assert "Sent: Sent" in out and "Drafts: Drafts" in out and "Trash: Trash" in out
    assert "will be created on the first run" in out
    assert cli(config, "once")[0] == 0
    code, out = cli(config, "check-config")
    assert "calendar 'Mentorship' at http://" in out


def test_a_refused_login_exits_69_with_advice(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    config.write_text(config.read_text().replace(f'password = "{mail_user.server.password}"', 'password = "wrong"'))
    code, out = cli(config, "check-config")
    assert code == EX_UNAVAILABLE
    assert "refused the login" in out and "mail.password" in out


def test_an_unreachable_server_exits_69(mail_user, tmp_path):
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    config.write_text(config.read_text().replace(f"port = {mail_user.server.port}", "port = 1"))
    code, out = cli(config, "once")
    assert code == EX_UNAVAILABLE, out
    assert "cannot connect" in out


def test_folders_are_found_by_name_without_special_use(tmp_path):
    server = start_dovecot(special_use=False, password="pw")
    try:
        user = MailUser(server, "nospecial@example.edu")
        with user.client() as c:
            flags = [f for f, _s, _n in c.list_folders()]
            assert not any(b"\\Sent" in f for f in flags)
        config = load_config(write_config(tmp_path / "config.toml", user=user, calendar=None))
        mailbox = ImapMailbox.connect(config.mail, "pw")
        try:
            folders = mailbox.detect_folders()
        finally:
            mailbox.close()
        assert (folders.sent, folders.drafts, folders.trash) == ("Sent", "Drafts", "Trash")
    finally:
        server.stop()


def test_the_whole_cycle_against_xandikos(mail_user, xandikos, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=xandikos, cal_user="user", goals=GOAL)
    code, out = cli(config, "once")
    assert code == 0, out
    objects = calendar_objects(xandikos.url, "user")
    assert len(objects) == 3
    assert any("DTSTART;VALUE=DATE:20261215" in data for _e, data in objects.values())
    code, out = cli(config, "once", now=NOW + timedelta(minutes=1))
    assert "Nothing to do." in out
    assert calendar_objects(xandikos.url, "user") == objects
    # A goal that changes rewrites only its objects, in place.
    config.write_text(config.read_text().replace('estimate = "2w"', 'estimate = "3w"'))
    code, out = cli(config, "once", now=NOW + timedelta(minutes=2))
    assert out.count("update calendar entry") == 3 and "create" not in out
    after = calendar_objects(xandikos.url, "user")
    assert after.keys() == objects.keys()
    assert any("DTSTART;VALUE=DATE:20261229" in data for _e, data in after.values())


def test_applying_the_same_plan_twice_changes_nothing_the_second_time(mail_user, radicale, tmp_path):
    seed(mail_user)
    config = load_config(write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL))
    store = Store(config.state_path)
    mailbox = ImapMailbox.connect(config.mail, mail_user.server.password)
    assert config.calendar is not None
    calendar = CalendarStore.connect(config.calendar, "x")
    try:
        with store.locked() as session:
            since = tracking_since(config.settings, session.state, now=NOW)
            relevance = Relevance.build(config.settings, session.state, since=since)
            snap, _cache = read_mailbox(mailbox, relevance, session.state, settings=config.settings, now=NOW)
            plan = decide(snap, session.state, config.settings, load_templates(None), now=NOW, since=since)
            assert plan.actions
            first = apply_plan(plan, session, mailbox=mailbox, calendar=calendar, now=NOW)
            assert first.writes > 0 and not first.failed
            mail_after, cal_after = (
                server_fingerprint(mail_user),
                calendar_objects(radicale.url, mail_user.username.split("@")[0]),
            )
        with Store(config.state_path).locked() as session:
            # As if the outcome of the first application was never recorded.
            session.state = replace(session.state, calendar={})
            second = apply_plan(plan, session, mailbox=mailbox, calendar=calendar, now=NOW)
        assert not second.failed
        assert server_fingerprint(mail_user) == mail_after
        assert calendar_objects(radicale.url, mail_user.username.split("@")[0]) == cal_after
        assert len(mail_user.messages("Drafts")) == 1
    finally:
        mailbox.close()
        calendar.close()


def test_status_json_is_the_design_schema(mail_user, radicale, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL)
    cli(config, "once")
    doc = json.loads(cli(config, "status", "--json")[1])
    assert {"requests", "goals", "checkins", "mentors"} <= set(doc)  # the schema; extensions may follow
    for r in doc["requests"]:
        assert {"id", "message_id", "mentor", "subject", "sent_at", "state", "round", "next_action_at", "why"} <= set(r)
        assert r["why"]
    for g in doc["goals"]:
        assert {"id", "title", "target", "deadline", "status"} <= set(g)
    stages = {m["email"]: m["stage"] for m in doc["mentors"]}
    assert stages == {
        "jsmith@hospital.org": "replied",
        "rpatel@hospital.org": "contacted",
        "mchen@hospital.org": "contacted",
    }
    assert all(m["suggested"] == [] for m in doc["mentors"])
    code, out = cli(config, "status")
    assert code == 0 and "rpatel@hospital.org" in out and "drafted" in out
