"""The issue's acceptance story, through the command line, against Dovecot and Radicale."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta
from pathlib import Path

import caldav
import pytest
from click.testing import CliRunner

from assistant.cli import main
from tests.conftest import MailUser, make_message, write_config

NOW = datetime.fromisoformat("2026-11-24T09:00:00-07:00")
GOAL = textwrap.dedent("""
    [[goals]]
    id = "qi-proposal"
    title = "First draft of the QI proposal"
    measure = "a 3-5 page draft sent to Dr. Smith"
    owner = "me"
    start = 2026-11-24
    estimate = "2w"
""")


def cli(config: Path, *args: str, now: datetime = NOW) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["--config", str(config), *args], env={"MENTOR_ASSISTANT_NOW": now.isoformat()}, catch_exceptions=False
    )
    return result.exit_code, result.output


def seed(user: MailUser) -> None:
    me = user.username
    sent_a = NOW - timedelta(days=19)
    user.append(
        "Sent",
        make_message(
            sender=f"Alex Rivera <{me}>",
            to=["Dr. Jane Smith <jsmith@hospital.org>"],
            subject="Guidance on an inpatient anticoagulation QI project",
            when=sent_a,
            message_id="<req-a@example.edu>",
        ),
        when=sent_a,
        flags=(b"\\Seen",),
    )
    reply = sent_a + timedelta(days=5)
    user.append(
        "INBOX",
        make_message(
            sender="Jane Smith <jsmith@hospital.org>",
            to=[me],
            subject="Re: Guidance on an inpatient anticoagulation QI project",
            when=reply,
            message_id="<reply-a@hospital.org>",
            in_reply_to="<req-a@example.edu>",
            references=["<req-a@example.edu>"],
            body="Happy to help. Let's meet next week.\n",
        ),
        when=reply,
    )
    sent_b = NOW - timedelta(days=15)
    user.append(
        "Sent",
        make_message(
            sender=f"Alex Rivera <{me}>",
            to=["Dr. Raj Patel <rpatel@hospital.org>"],
            subject="Mentorship for a transfusion QI project",
            when=sent_b,
            message_id="<req-b@example.edu>",
            body="Dear Dr. Patel,\n\nI am a first-year resident interested in transfusion thresholds.\n",
        ),
        when=sent_b,
        flags=(b"\\Seen",),
    )
    sent_c = NOW - timedelta(days=3)
    user.append(
        "Sent",
        make_message(
            sender=f"Alex Rivera <{me}>",
            to=["Dr. Maria Chen <mchen@hospital.org>"],
            subject="Could we talk about hematology research?",
            when=sent_c,
            message_id="<req-c@example.edu>",
        ),
        when=sent_c,
        flags=(b"\\Seen",),
    )
    # Not a request: mail to someone who is not a mentor.
    user.append(
        "Sent",
        make_message(
            sender=me, to=["friend@example.org"], subject="Dinner", when=sent_b, message_id="<dinner@example.edu>"
        ),
        when=sent_b,
    )


def server_fingerprint(user: MailUser) -> dict[str, object]:
    """Everything a write would change: HIGHESTMODSEQ and UIDNEXT of every folder."""
    out: dict[str, object] = {}
    with user.client() as c:
        for folder in ("INBOX", "Sent", "Drafts", "Trash"):
            out[folder] = c.folder_status(folder, ["UIDNEXT", "HIGHESTMODSEQ", "MESSAGES"])
    return out


def calendar_objects(url: str, username: str) -> dict[str, tuple[str, str]]:
    client = caldav.DAVClient(url=url, username=username, password="x")
    cal = next(c for c in client.principal().calendars() if c.get_display_name() == "Mentorship")
    out = {}
    for obj in cal.objects(load_objects=True):
        out[str(obj.url)] = (obj.props.get("{DAV:}getetag") or "", obj.data)
    return out


@pytest.mark.integration
def test_once_acts_on_the_three_requests_and_the_goal(mail_user, radicale, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL)

    code, out = cli(config, "once")
    assert code == 0, out

    code, out = cli(config, "status", "--json")
    assert code == 0, out
    doc = json.loads(out)
    by_mentor = {r["mentor"]: r for r in doc["requests"]}
    assert set(by_mentor) == {"jsmith@hospital.org", "rpatel@hospital.org", "mchen@hospital.org"}
    assert by_mentor["jsmith@hospital.org"]["state"] == "replied"
    assert "<reply-a@hospital.org>" in by_mentor["jsmith@hospital.org"]["why"]
    assert by_mentor["rpatel@hospital.org"]["state"] == "drafted"
    assert by_mentor["rpatel@hospital.org"]["round"] == 1
    assert by_mentor["mchen@hospital.org"]["state"] == "waiting"
    assert by_mentor["mchen@hospital.org"]["round"] == 0
    assert by_mentor["mchen@hospital.org"]["next_action_at"].startswith("2026-12-05")
    assert doc["goals"] == [
        {
            "id": "qi-proposal",
            "title": "First draft of the QI proposal",
            "target": "2026-12-08",
            "deadline": "2026-12-15",
            "status": "open",
            "owner": "me",
            "overdue": False,
            "note": "",
        }
    ]

    # Mail: exactly one draft, threaded to request B; B flagged, A and C not.
    drafts = mail_user.messages("Drafts")
    assert len(drafts) == 1
    (draft,) = drafts.values()
    raw = draft[b"BODY[]"]
    assert b"In-Reply-To: <req-b@example.edu>" in raw
    assert b"References: <req-b@example.edu>" in raw
    assert b"Subject: Re: Mentorship for a transfusion QI project" in raw
    assert b'To: "Dr. Raj Patel" <rpatel@hospital.org>' in raw
    assert b"X-Mentor-Assistant: request=" in raw
    assert set(draft[b"FLAGS"]) >= {b"\\Draft", b"\\Seen"}
    sent = {
        m[b"BODY[]"].split(b"Message-ID: ")[1].split(b"\r\n")[0]: m[b"FLAGS"]
        for m in mail_user.messages("Sent").values()
    }
    assert b"\\Flagged" in sent[b"<req-b@example.edu>"]
    assert b"\\Flagged" not in sent[b"<req-a@example.edu>"]
    assert b"\\Flagged" not in sent[b"<req-c@example.edu>"]

    # Calendar: the promised and the target date as all-day events.
    objects = calendar_objects(radicale.url, mail_user.username.split("@")[0])
    texts = [data for _etag, data in objects.values()]
    assert len(texts) == 3  # Radicale takes tasks: the two events and a VTODO
    assert any("BEGIN:VTODO" in t and "DUE;VALUE=DATE:20261208" in t for t in texts)
    assert any("DTSTART;VALUE=DATE:20261215" in t and "SUMMARY:Due:" in t for t in texts)
    assert any("DTSTART;VALUE=DATE:20261208" in t and "Aim: First draft" in t for t in texts)

    # A second cycle with nothing new writes nothing to either server.
    before_mail, before_cal = server_fingerprint(mail_user), objects
    code, out = cli(config, "once", now=NOW + timedelta(minutes=5))
    assert code == 0, out
    assert "Nothing to do." in out
    assert server_fingerprint(mail_user) == before_mail
    assert calendar_objects(radicale.url, mail_user.username.split("@")[0]) == before_cal


@pytest.mark.integration
def test_reply_while_drafted_removes_our_flag_and_draft(mail_user, radicale, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=None)
    assert cli(config, "once")[0] == 0
    assert len(mail_user.messages("Drafts")) == 1

    later = NOW + timedelta(days=1)
    mail_user.append(
        "INBOX",
        make_message(
            sender="Raj Patel <rpatel@hospital.org>",
            to=[mail_user.username],
            subject="RE: Mentorship for a transfusion QI project",
            when=later,
            message_id="<reply-b@hospital.org>",
            in_reply_to="<req-b@example.edu>",
            references=["<req-b@example.edu>"],
        ),
        when=later,
    )
    code, out = cli(config, "once", now=later + timedelta(hours=1))
    assert code == 0, out
    assert "delete our draft" in out
    assert mail_user.messages("Drafts") == {}
    doc = json.loads(cli(config, "status", "--json", now=later + timedelta(hours=1))[1])
    assert {r["mentor"]: r["state"] for r in doc["requests"]}["rpatel@hospital.org"] == "replied"
    flags = [m[b"FLAGS"] for m in mail_user.messages("Sent").values() if b"<req-b@example.edu>" in m[b"BODY[]"]]
    assert flags and b"\\Flagged" not in flags[0]


@pytest.mark.integration
def test_dry_run_touches_nothing(mail_user, radicale, tmp_path):
    seed(mail_user)
    config = write_config(tmp_path / "config.toml", user=mail_user, calendar=radicale, goals=GOAL)
    before = server_fingerprint(mail_user)
    code, out = cli(config, "once", "--dry-run")
    assert code == 0, out
    assert "write draft" in out and "create calendar entry" in out and "flag <req-b@example.edu>" in out
    assert server_fingerprint(mail_user) == before
    assert not (tmp_path / "state.json").exists()
