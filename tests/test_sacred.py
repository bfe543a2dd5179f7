"""The resident's mail is sacred, and every failure gets the right words and stops nothing
else: against Dovecot and Radicale, through the command line."""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from email import policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import MailUser, make_message, write_config
from tests.test_end_to_end import GOAL, cli
from tests.test_evidence import MENTOR, ROOT, T0, config, drafts, once, receive, send

pytestmark = pytest.mark.integration
__all__ = ["config"]  # the fixture


def draft_uid(user: MailUser) -> int:
    with user.client() as c:
        c.select_folder("Drafts")
        (uid,) = c.search(["ALL"])
        return int(uid)


def replace_draft(user: MailUser, change) -> bytes:  # type: ignore[no-untyped-def]
    """The resident changes our draft and the client saves it, keeping our Message-ID and header
    (as some do): only the content tells that it is theirs now."""
    with user.client() as c:
        c.select_folder("Drafts")
        (uid,) = c.search(["ALL"])
        raw = c.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
        new = change(raw)
        c.append("Drafts", new, flags=[b"\\Draft", b"\\Seen"])
        c.add_flags([uid], [b"\\Deleted"])
        c.uid_expunge([uid])
    return new


def with_attachment(raw: bytes) -> bytes:
    msg = email.message_from_bytes(raw, policy=policy.default)
    msg.make_mixed()
    msg.add_attachment(b"%PDF-1.4 my CV", maintype="application", subtype="pdf", filename="cv.pdf")
    return msg.as_bytes()


def header_changed(name: str, value: str):  # type: ignore[no-untyped-def]
    def change(raw: bytes) -> bytes:
        msg = email.message_from_bytes(raw, policy=policy.default)
        del msg[name]
        msg[name] = value
        return msg.as_bytes()

    return change


EDITS = {
    "a CV attached": with_attachment,
    "To changed": header_changed("To", "Dr. Jane Smith <jane.smith@university.edu>"),
    "a Cc added": header_changed("Cc", "plee@hospital.org"),
    "the Subject changed": header_changed("Subject", "Re: Mentorship (and my CV)"),
}


# ------------------------------------------------------------------ 1. data the resident owns


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_edited_draft_is_never_removed(mail_user, config, edit):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    mine = replace_draft(mail_user, EDITS[edit])
    receive(mail_user, "<answer@h>", when=T0 + timedelta(days=15, hours=1))
    out = once(config, T0 + timedelta(days=15, hours=2))
    assert "left there because it is yours" in out
    (stored,) = mail_user.messages("Drafts").values()
    assert stored[b"BODY[]"] == mine.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as the server keeps it
    assert mail_user.messages("Trash") == {}


@pytest.mark.parametrize("touch", ["flagged", "marked unread"])
def test_a_flagged_or_unread_draft_is_the_residents(mail_user, config, touch):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    with mail_user.client() as c:
        c.select_folder("Drafts")
        if touch == "flagged":
            c.add_flags(c.search(["ALL"]), [b"\\Flagged"])
        else:
            c.remove_flags(c.search(["ALL"]), [b"\\Seen"])
    receive(mail_user, "<answer@h>", when=T0 + timedelta(days=15, hours=1))
    once(config, T0 + timedelta(days=15, hours=2))
    assert len(drafts(mail_user)) == 1


def test_an_untouched_draft_goes_to_trash_not_into_the_void(mail_user, config):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (before,) = mail_user.messages("Drafts").values()
    receive(mail_user, "<answer@h>", when=T0 + timedelta(days=15, hours=1))
    once(config, T0 + timedelta(days=15, hours=2))
    assert drafts(mail_user) == []
    (trashed,) = mail_user.messages("Trash").values()
    assert trashed[b"BODY[]"] == before[b"BODY[]"]


@pytest.mark.parametrize("header", [
    'Jane@Home <jsmith@hospital.org>',
    '=?utf-8?b?RXZpbDIgPGV2aWwyQHgub3JnPg==?= <jsmith@hospital.org>',
    '"Smith, Jane" <jsmith@hospital.org>',
    'jsmith@hospital.org (Jane <evil@x.org>)',
])  # fmt: skip
def test_a_draft_goes_exactly_to_the_requests_recipients(mail_user, config, header):
    raw = make_message(sender=mail_user.username, to=["x@placeholder.org"], subject="Mentorship", when=T0,
                       message_id=ROOT).replace(b"To: x@placeholder.org", b"To: " + header.encode())  # fmt: skip
    mail_user.append("Sent", raw, when=T0, flags=(b"\\Seen",))
    once(config, T0 + timedelta(days=15))
    (draft,) = drafts(mail_user)
    assert [a.addr_spec for a in draft["To"].addresses] == [MENTOR]
    assert draft["Cc"] is None


def test_legacy_charsets_and_long_message_ids_keep_their_text_and_threading(mail_user, config):
    long_id = "<" + "x" * 1990 + "@example.edu>"
    raw = (
        f"From: {mail_user.username}\r\nTo: {MENTOR}\r\nDate: Mon, 02 Nov 2026 09:14:00 -0700\r\n"
        f"Message-ID: {long_id}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
    ).encode() + b"Subject: Caf\xe9 et m\xe9decine interne\r\n\r\nCher Dr. Smith, \xe0 bient\xf4t.\r\n"
    mail_user.append("Sent", raw, when=T0, flags=(b"\\Seen",))
    once(config, T0 + timedelta(days=15))
    ((stored,),) = [list(mail_user.messages("Drafts").values())]
    draft = email.message_from_bytes(stored[b"BODY[]"], policy=policy.default)
    assert draft["Subject"] == "Re: Café et médecine interne"
    assert "\ufffd" not in draft.get_body(preferencelist=("plain",)).get_content()
    assert "à bientôt" in draft.get_body(preferencelist=("plain",)).get_content()
    head = stored[b"BODY[]"].split(b"\r\n\r\n", 1)[0]
    assert f"In-Reply-To: {long_id}".encode() in head  # a plain token, never an encoded word
    assert b"=?" not in head.split(b"In-Reply-To:", 1)[1].split(b"\r\n")[0]


TRICKS = ["", "<evil@x.org>", "evil@x.org", "=?utf-8?q?a_<b@x.org>?=", '"', "\\", ",", ";", ":"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40),
       trick=st.sampled_from(TRICKS))  # fmt: skip
def test_no_header_makes_a_draft_address_anyone_but_the_recipients(mail_user, tmp_path_factory, name, trick):
    """Every header of a request fuzzed through a real cycle: the draft goes to the mentor only,
    and the stored draft parses back with the headers it was written with."""
    tmp = tmp_path_factory.mktemp("fuzz")
    user = MailUser(mail_user.server, f"fuzz-{os.getpid()}-{tmp.name}@example.edu")
    cfg = write_config(tmp / "config.toml", user=user, calendar=None)
    display = (name + trick).replace("\r", " ").replace("\n", " ")
    head = (
        f"From: {user.username}\r\nTo: {display} <{MENTOR}>\r\nSubject: {display or 'x'}\r\n"
        f"Date: Mon, 02 Nov 2026 09:14:00 -0700\r\nMessage-ID: {ROOT}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
    )
    user.append("Sent", head.encode("utf-8", "surrogateescape"), when=T0, flags=(b"\\Seen",))
    once(cfg, T0 + timedelta(days=15))
    found = drafts(user)
    if not found:  # an address that does not parse as the mentor's is no request at all
        return
    (draft,) = found
    assert {a.addr_spec for a in draft["To"].addresses} == {MENTOR}
    assert draft["Cc"] is None and draft["Bcc"] is None
    assert draft["In-Reply-To"] == ROOT and draft["X-Mentor-Assistant"].startswith("request=")


# ------------------------------------------------------------------ 4, 5. one broken part stops nothing else


def test_a_changed_calendar_url_neither_crashes_nor_stops_the_mail(mail_user, radicale, tmp_path):
    send(mail_user)
    cfg = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL)
    assert cli(cfg, "once", now=T0 + timedelta(days=1))[0] == 0
    text = cfg.read_text()
    # Another host name for the same server: the remembered URL belongs to the old one.
    cfg.write_text(text.replace("http://127.0.0.1:", "http://localhost:"))
    code, out = cli(cfg, "once", now=T0 + timedelta(days=2))
    assert code == 0, out
    # A server that is not there: the mail part is still done, then exit 69.
    cfg.write_text(text.replace(radicale.url, "http://127.0.0.1:9/"))
    code, out = cli(cfg, "once", now=T0 + timedelta(days=15))
    assert code == 69, out
    assert len(drafts(mail_user)) == 1 and "write draft" in out
    assert "calendar" in out.lower() and "Traceback" not in out


def test_a_calendar_url_that_does_not_exist_says_which_ones_do(mail_user, radicale, tmp_path):
    cfg = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale)
    cfg.write_text(cfg.read_text().replace(f'url = "{radicale.url}"', f'url = "{radicale.url}nope/calendars/"'))
    code, out = cli(cfg, "check-config")
    assert code == 69, out
    assert "does not exist" in out and "404" in out and f"{radicale.url}" in out
    code, out = cli(cfg, "once", now=T0)
    assert code == 69, out


# ------------------------------------------------------------------ 6. state of the wrong shape


@pytest.mark.parametrize("damage", [b'{"requests": 5}', b'{"requests": {"1": {"id": "x"}}}',
                                    b'{"meta": {"1": {"schema_version": 99}}}', b"\0\0\0", b"[]"])  # fmt: skip
def test_a_damaged_state_is_set_aside_without_a_traceback(mail_user, config, damage):
    send(mail_user)
    once(config, T0 + timedelta(days=15))
    (config.parent / "state.json").write_bytes(damage)
    for command in ("status", "once"):
        code, out = cli(config, command, now=T0 + timedelta(days=15, hours=1))
        assert code == 0 and "Traceback" not in out, out
    assert len(drafts(mail_user)) == 1  # no duplicate draft after the rebuild
    assert any("unreadable" in p.name for p in config.parent.iterdir())


def test_a_state_path_that_is_a_directory_says_so(mail_user, config):
    state = config.parent / "state.json"
    state.mkdir()
    code, out = cli(config, "once", now=T0)
    assert code == 78, out
    assert "is a directory" in out and "[state] path" in out


# ------------------------------------------------------------------ 7, 8. the right words


def test_a_refused_password_names_the_key_it_came_from(mail_user, config):
    config.write_text(config.read_text().replace(f'password = "{mail_user.server.password}"', 'password = "wrong"'))
    code, out = cli(config, "once", now=T0)
    assert code == 69
    assert "mail.password" in out and "password_command" not in out


def test_tls_spoken_to_a_plaintext_port_says_so(mail_user, config):
    text = config.read_text().replace('security = "plain"', 'security = "tls"')
    config.write_text(text.replace('host = "127.0.0.1"', 'host = "localhost"'))
    code, out = cli(config, "check-config")
    assert code == 69
    assert "does not speak TLS" in out and "starttls" in out and "certificate" not in out


@pytest.mark.parametrize("args", [
    ("goal", "done", "nope"),
    ("goal", "edit", "nope", "--title", "x"),
    ("goal", "add", "g", "--title", "a b", "--estimate", "2w", "--start", "2026-02-30"),
    ("goal", "add", "g", "--title", "a b", "--estimate", "soon"),
    ("mentor", "add", "Dr. X", "--email", "not-an-address"),
    ("untrack", "nope"),
    ("outreach", "Nobody"),
])  # fmt: skip
def test_command_line_mistakes_exit_64_with_a_plain_fix(mail_user, config, args):
    code, out = cli(config, *args)
    assert code == 64, out
    assert "config file" not in out and "does not match the format" not in out and "Traceback" not in out


def test_a_bad_clock_override_is_a_usage_error(config):
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(main, ["--config", str(config), "status"], env={"MENTOR_ASSISTANT_NOW": "tomorrow"})
    assert result.exit_code == 64 and "MENTOR_ASSISTANT_NOW" in result.output


def test_tracking_a_message_that_is_not_in_sent_says_so(mail_user, config):
    code, out = cli(config, "track", "<nowhere@example.edu>", now=T0)
    assert code == 0 and "is not in Sent" in out
    doc = json.loads(cli(config, "status", "--json", now=T0)[1])
    assert doc["tracked_by_hand"] == [{"message_id": "<nowhere@example.edu>", "found": False}]
    assert "not found in Sent yet" in cli(config, "status", now=T0)[1]


def test_a_calendar_url_with_a_user_name_is_refused(mail_user, tmp_path):
    cfg = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    cfg.write_text(
        cfg.read_text()
        + textwrap.dedent("""
        [calendar]
        url = "http://localhost:80@evil.example/"
        username = "u"
        password = "p"
    """)
    )
    code, out = cli(cfg, "check-config", "--offline")
    assert code == 78 and "calendar.url" in out


def test_a_failing_password_command_never_shows_its_arguments(mail_user, config):
    text = config.read_text().replace(f'password = "{mail_user.server.password}"',
                                      'password_command = ["false", "--secret-token-abc"]')  # fmt: skip
    config.write_text(text)
    code, out = cli(config, "once", now=T0)
    assert code == 78 and "secret-token-abc" not in out and "mail.password_command" in out


def test_demo_keep_stops_its_servers_on_sigterm_and_cleans_up(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "demo", "--keep", "--imap", "pymap"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Config and state:" in line:
                break
        workdir = Path(lines[-1].split("Config and state:")[1].strip())
        assert oct((workdir / "config.toml").stat().st_mode & 0o777) == "0o600"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert not workdir.exists()


@pytest.mark.integration
def test_a_password_with_accents_logs_in(tmp_path):
    from assistant.demo.servers.dovecot import start_dovecot
    from tests.conftest import MailUser as User

    server = start_dovecot(password="Grüße-été-9")
    try:
        user = User(server, "resident@example.edu")
        config = write_config(tmp_path / "config.toml", user=user, calendar=None)
        assert 'password = "Grüße-été-9"' in config.read_text()
        code, out = cli(config, "check-config")
        assert code == 0 and "logged in as resident@example.edu" in out, out
        config.write_text(config.read_text().replace('password = "Grüße-été-9"', 'password = "Grüße-été-0"'))
        code, out = cli(config, "check-config")
        assert code == 69 and "refused the login" in out and "mail.password" in out and "été" not in out
    finally:
        server.stop()


@pytest.mark.integration
def test_the_follow_up_comes_from_the_address_the_request_was_sent_from(mail_user, config):
    text = config.read_text()
    config.write_text(
        text.replace('role = "first-year', 'aliases = ["alex.rivera@hospital.org"]\nrole = "first-year', 1)
    )
    raw = make_message(sender="Alex Rivera <alex.rivera@hospital.org>", to=[MENTOR], subject="Mentorship", when=T0,
                       message_id=ROOT, body="Dear Dr. Smith,\n\nCould we talk?\n")  # fmt: skip
    mail_user.append("Sent", raw, when=T0, flags=(b"\\Seen",))
    once(config, T0 + timedelta(days=15))
    (draft,) = drafts(mail_user)
    assert draft["From"].addresses[0].addr_spec == "alex.rivera@hospital.org"
