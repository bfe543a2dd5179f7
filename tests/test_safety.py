"""The rules under "The assistant never", each tested against real servers."""

from __future__ import annotations

import ast
import json
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.demo.servers.smtp_sink import start_smtp_sink
from tests.conftest import PASSWORD, make_message, write_config
from tests.test_end_to_end import GOAL, NOW, calendar_objects, cli, seed, server_fingerprint

pytestmark = pytest.mark.integration
PACKAGE = Path(__file__).resolve().parents[1] / "assistant"


def all_messages(user, folder):
    return {uid: (bytes(m[b"BODY[]"]), set(m[b"FLAGS"])) for uid, m in user.messages(folder).items()}


def test_no_code_but_the_smtp_adapter_can_send_mail():
    senders = {"smtplib", "aiosmtplib"}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "smtp.py" and path.parent.name == "adapters":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            assert not senders & set(names), f"{path} imports a mail sender"


def test_a_whole_story_sends_no_mail_to_anyone(mail_user, radicale, tmp_path):
    sink = start_smtp_sink()
    port = sink.port
    try:
        seed(mail_user)
        smtp = textwrap.dedent(f"""
            [smtp]
            host = "127.0.0.1"
            port = {port}
            security = "plain"
            username = "{mail_user.username}"
            password = "x"
            digest = "off"
        """)
        config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL, extra=smtp)
        for days in (0, 1, 15, 30, 45):
            assert cli(config, "once", now=NOW + timedelta(days=days))[0] == 0
    finally:
        sink.stop()
    assert sink.messages == []


def test_messages_it_did_not_create_are_never_deleted_or_edited(mail_user, tmp_path):
    seed(mail_user)
    me = mail_user.username
    # The resident's own draft to someone else, and their own flag on request C.
    own = make_message(
        sender=me, to=["colleague@hospital.org"], subject="Re: Lunch on Friday?",
        when=NOW, message_id="<my-own-draft@example.edu>", in_reply_to="<lunch@hospital.org>",
    )  # fmt: skip
    mail_user.append("Drafts", own, when=NOW, flags=(b"\\Draft",))
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    with mail_user.client() as c:
        c.select_folder("Sent")
        (uid_c,) = c.search(["HEADER", "Message-ID", "<req-c@example.edu>"])
        c.add_flags([uid_c], [b"\\Flagged"])
    assert cli(config, "once")[0] == 0

    # The resident edits our draft: the client saves a new copy and removes the old one.
    with mail_user.client() as c:
        c.select_folder("Drafts")
        ours = [
            u for u, m in c.fetch(c.search(["ALL"]), ["BODY.PEEK[]"]).items() if b"X-Mentor-Assistant" in m[b"BODY[]"]
        ]
        (uid,) = ours
        raw = c.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
        c.append("Drafts", raw.replace(b"Thank you for considering it.", b"I will be at grand rounds on Friday."),
                 flags=[b"\\Draft", b"\\Seen"])  # fmt: skip
        c.add_flags([uid], [b"\\Deleted"])
        c.uid_expunge([uid])
    before = {folder: all_messages(mail_user, folder) for folder in ("INBOX", "Sent", "Drafts")}

    # Replies arrive to B (whose draft was edited) and to C (which the resident flagged).
    later = NOW + timedelta(days=1)
    for mid, to_mid, sender in (("<rb@h>", "<req-b@example.edu>", "rpatel@hospital.org"),
                                ("<rc@h>", "<req-c@example.edu>", "mchen@hospital.org")):  # fmt: skip
        mail_user.append("INBOX", make_message(sender=sender, to=[me], subject="Re: x", when=later, message_id=mid,
                         in_reply_to=to_mid), when=later)  # fmt: skip
    code, out = cli(config, "once", now=later + timedelta(hours=1))
    assert code == 0, out
    assert "left there because it is yours" in out
    after = {folder: all_messages(mail_user, folder) for folder in ("Sent", "Drafts")}
    # Drafts: both the resident's own draft and the edited one are still there, byte for byte.
    assert after["Drafts"] == before["Drafts"]
    # Sent: nothing edited; the resident's flag on C stays.
    assert {u: raw for u, (raw, _f) in after["Sent"].items()} == {u: raw for u, (raw, _f) in before["Sent"].items()}
    flags_c = next(f for raw, f in after["Sent"].values() if b"<req-c@example.edu>" in raw)
    assert b"\\Flagged" in flags_c
    states = {r["mentor"]: r["state"] for r in json.loads(cli(config, "status", "--json", now=later)[1])["requests"]}
    assert states["rpatel@hospital.org"] == "replied" and states["mchen@hospital.org"] == "replied"


def test_lost_state_is_rebuilt_not_taken_as_deletion(mail_user, radicale, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL)
    assert cli(config, "once")[0] == 0
    mail_before = server_fingerprint(mail_user)
    cal_user = mail_user.username.split("@")[0]
    cal_before = calendar_objects(radicale.url, cal_user)
    (tmp_path / "state.json").unlink()
    code, out = cli(config, "once", now=NOW + timedelta(minutes=10))
    assert code == 0, out
    assert server_fingerprint(mail_user) == mail_before
    assert calendar_objects(radicale.url, cal_user) == cal_before
    doc = json.loads(cli(config, "status", "--json", now=NOW + timedelta(minutes=10))[1])
    assert {r["mentor"]: r["state"] for r in doc["requests"]}["rpatel@hospital.org"] == "drafted"
    # A corrupt state file is set aside the same way.
    (tmp_path / "state.json").write_text("{not json")
    assert cli(config, "once", now=NOW + timedelta(minutes=20))[0] == 0
    assert server_fingerprint(mail_user) == mail_before


def test_no_password_in_a_debug_log(mail_user, radicale, tmp_path):
    seed(mail_user)
    secret_file = tmp_path / "pw"
    secret_file.write_text(PASSWORD + "\n")
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL)
    text = config.read_text().replace(f'password = "{PASSWORD}"', f'password_command = ["cat", "{secret_file}"]')
    config.write_text(text)
    assert PASSWORD not in text
    code, out = cli_verbose(config)
    assert code == 0, out
    assert "DEBUG" in out  # the log really was verbose
    assert PASSWORD not in out


def cli_verbose(config):
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(
        main, ["-vv", "--config", str(config), "once"], env={"MENTOR_ASSISTANT_NOW": NOW.isoformat()}
    )
    return result.exit_code, result.output
