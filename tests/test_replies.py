"""Replies you can trust, against Dovecot: every tracking source, every rung of the ladder,
auto-replies with and without a return date, bounces, receipts, lists, incremental scans."""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import main
from tests.conftest import MailUser, make_message, write_config
from tests.test_end_to_end import NOW, cli

pytestmark = pytest.mark.integration
SENT_AT = NOW - timedelta(days=20)


def send(
    user: MailUser,
    mid: str,
    to: list[str],
    *,
    when=SENT_AT,
    cc: list[str] | None = None,
    subject="Mentorship",
    refs: list[str] | None = None,
    flags=(b"\\Seen",),
    extra=None,
) -> None:
    headers = dict(extra or {})
    if cc:
        headers["Cc"] = ", ".join(cc)
    raw = make_message(
        sender=f"Alex Rivera <{user.username}>",
        to=to,
        subject=subject,
        when=when,
        message_id=mid,
        in_reply_to=refs[-1] if refs else None,
        references=refs,
        extra=headers,
    )
    user.append("Sent", raw, when=when, flags=flags)


def receive(
    user: MailUser,
    mid: str,
    sender: str,
    *,
    when=SENT_AT + timedelta(days=2),
    folder="INBOX",
    reply_to: str | None = None,
    subject="Re: Mentorship",
    body="Thanks, let's talk.\n",
    extra=None,
    to: list[str] | None = None,
) -> None:
    raw = make_message(
        sender=sender,
        to=to or [user.username],
        subject=subject,
        when=when,
        message_id=mid,
        in_reply_to=reply_to,
        references=[reply_to] if reply_to else None,
        body=body,
        extra=extra,
    )
    user.append(folder, raw, when=when)


def states(config, now=NOW) -> dict[str, dict]:
    doc = json.loads(cli(config, "status", "--json", now=now)[1])
    return {r["message_id"]: r for r in doc["requests"]}


@pytest.fixture
def setup(mail_user, tmp_path):
    def make(extra: str = "", mentors: str | None = None):
        return write_config(tmp_path / "config.toml", user=mail_user, calendar=None, extra=extra, mentors=mentors)

    return make


# ---------------------------------------------------------------- tracking sources


def test_every_tracking_source(mail_user, setup):
    me = mail_user.username
    bcc = me.replace("@", "+mentor@")
    config = setup(extra=f'\n[tracking]\nbcc = "{bcc}"\nkeyword = "$MentorRequest"\nsince = 2026-10-01\n')
    config.write_text(config.read_text().replace("[tracking]\nsince = 2026-10-01\n", "", 1))
    send(mail_user, "<cc@x>", ["someone@else.org"], cc=["rpatel@hospital.org"])
    send(mail_user, "<bcc@x>", ["dr.new@clinic.org"])
    # The BCC copy of the same message reaches the inbox.
    receive(
        mail_user,
        "<bcc@x>",
        f"Alex Rivera <{me}>",
        when=SENT_AT,
        to=["dr.new@clinic.org"],
        subject="Mentorship",
        extra={"Delivered-To": bcc},
    )
    send(mail_user, "<kw@x>", ["dr.kw@clinic.org"], flags=(b"\\Seen", b"$MentorRequest"))
    send(mail_user, "<later-kw@x>", ["dr.later@clinic.org"])
    send(mail_user, "<manual@x>", ["dr.hand@clinic.org"])
    send(mail_user, "<none@x>", ["friend@example.org"])
    assert cli(config, "once")[0] == 0
    found = states(config)
    assert {"<cc@x>", "<bcc@x>", "<kw@x>"} <= set(found)
    assert "<later-kw@x>" not in found and "<none@x>" not in found

    # The keyword set later in a mail client is noticed (CONDSTORE) on the next cycle.
    with mail_user.client() as c:
        c.select_folder("Sent")
        (uid,) = c.search(["HEADER", "Message-ID", "<later-kw@x>"])
        c.add_flags([uid], [b"$MentorRequest"])
    code, out = cli(config, "track", "<manual@x>")
    assert code == 0, out
    assert cli(config, "once", now=NOW + timedelta(minutes=1))[0] == 0
    found = states(config, NOW + timedelta(minutes=1))
    assert {"<later-kw@x>", "<manual@x>"} <= set(found)
    assert "<none@x>" not in found

    code, out = cli(config, "untrack", found["<manual@x>"]["id"])
    assert code == 0, out
    assert cli(config, "once", now=NOW + timedelta(minutes=2))[0] == 0
    assert states(config, NOW + timedelta(minutes=2))["<manual@x>"]["state"] == "closed"


def test_a_later_message_in_the_thread_is_a_follow_up_not_a_new_request(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])
    send(
        mail_user,
        "<mine@x>",
        ["jsmith@hospital.org"],
        when=SENT_AT + timedelta(days=10),
        subject="Re: Mentorship",
        refs=["<root@x>"],
    )
    assert cli(config, "once")[0] == 0
    found = states(config)
    assert list(found) == ["<root@x>"]
    # Due 14 days after my own follow-up, not after the request; my follow-up counts as a round.
    assert found["<root@x>"]["state"] == "followed_up"
    assert datetime.fromisoformat(found["<root@x>"]["next_action_at"]) == SENT_AT + timedelta(days=24)


# ---------------------------------------------------------------- the ladder


@pytest.mark.parametrize(
    ("how", "sender", "reply_to", "folder", "subject"),
    [
        ("In-Reply-To", "jsmith@hospital.org", "<root@x>", "INBOX", "Re: Mentorship"),
        ("References to a follow-up", "jsmith@hospital.org", "<mine@x>", "INBOX", "RE: Mentorship"),
        ("another folder", "jsmith@hospital.org", "<root@x>", "Mentors", "AW: Mentorship"),
        ("new thread, same subject", "jsmith@hospital.org", None, "INBOX", "SV: Mentorship"),
        ("new thread, other address", "jane.smith@university.edu", None, "INBOX", "Coffee next week?"),
    ],
)
def test_every_rung_finds_the_reply(mail_user, setup, how, sender, reply_to, folder, subject):
    config = setup()
    config.write_text(
        config.read_text().replace('poll_interval = "1m"', 'poll_interval = "1m"\nwatch = ["INBOX", "Mentors"]')
    )
    with mail_user.client() as c:
        c.create_folder("Mentors")
    send(mail_user, "<root@x>", ["Dr. Jane Smith <jsmith@hospital.org>"])
    send(
        mail_user,
        "<mine@x>",
        ["jsmith@hospital.org"],
        when=SENT_AT + timedelta(days=1),
        subject="Re: Mentorship",
        refs=["<root@x>"],
    )
    receive(mail_user, "<reply@h>", f"Jane Smith <{sender}>", folder=folder, reply_to=reply_to, subject=subject)
    code, out = cli(config, "once")
    assert code == 0, out
    found = states(config)["<root@x>"]
    assert found["state"] == "replied", (how, found)
    assert "<reply@h>" in found["why"]
    assert "no draft" not in out and "write draft" not in out


def test_what_is_not_a_reply(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])
    # The mentor writes to a mailing list the resident is on.
    receive(
        mail_user,
        "<list@h>",
        "jsmith@hospital.org",
        subject="Grand rounds this week",
        extra={"List-Id": "<hemeonc.hospital.org>", "Precedence": "list"},
    )
    # A read receipt for the request.
    receipt = EmailMessage()
    receipt["From"] = "jsmith@hospital.org"
    receipt["To"] = mail_user.username
    receipt["Subject"] = "Read: Mentorship"
    receipt["Message-ID"] = "<mdn@h>"
    receipt["Date"] = format_datetime(SENT_AT + timedelta(days=1))
    receipt.set_content("Your message was read.")
    mdn = "Final-Recipient: rfc822;jsmith@hospital.org\nDisposition: manual-action/MDN-sent-manually; displayed\n"
    receipt.add_attachment(mdn, subtype="disposition-notification")
    receipt.replace_header("Content-Type", 'multipart/report; report-type=disposition-notification; boundary="b1"')
    mail_user.append("INBOX", receipt.as_bytes(), when=SENT_AT + timedelta(days=1))
    # A message from the resident to themselves in the thread.
    receive(mail_user, "<note@x>", f"Alex <{mail_user.username}>", reply_to="<root@x>")
    code, out = cli(config, "once")
    assert code == 0, out
    found = states(config)["<root@x>"]
    assert found["state"] == "drafted", found


# ---------------------------------------------------------------- automatic replies


def test_out_of_office_with_a_return_date_pauses(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"], when=NOW - timedelta(days=15))
    back = (NOW + timedelta(days=10)).date()
    receive(
        mail_user,
        "<ooo@h>",
        "jsmith@hospital.org",
        when=NOW - timedelta(days=15) + timedelta(minutes=1),
        reply_to="<root@x>",
        subject="Automatic reply: Mentorship",
        body=f"I am out of the office until {back:%B} {back.day} with limited access to e-mail.\n",
        extra={"Auto-Submitted": "auto-replied"},
    )
    code, out = cli(config, "once")
    assert code == 0, out
    found = states(config)["<root@x>"]
    assert found["state"] == "paused"
    # Back Friday Dec 4: paused until one workday after it, Monday Dec 7 (09:00 local).
    assert back.isoformat() == "2026-12-04"
    assert found["next_action_at"] == "2026-12-07T09:00:00-07:00"
    assert "back on Fri Dec 4" in found["why"]
    assert "write draft" not in out
    # After the return date has passed, the nudge comes.
    later = NOW + timedelta(days=14)
    code, out = cli(config, "once", now=later)
    assert "write draft" in out
    assert states(config, later)["<root@x>"]["state"] == "drafted"


def test_out_of_office_without_a_return_date_changes_nothing(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"], when=NOW - timedelta(days=15))
    receive(
        mail_user,
        "<ooo@h>",
        "jsmith@hospital.org",
        when=NOW - timedelta(days=15) + timedelta(minutes=1),
        reply_to="<root@x>",
        subject="Out of Office",
        body="I have limited access to e-mail.\n",
        extra={"X-MS-Exchange-Inbox-Rules-Loop": "jsmith@hospital.org", "Return-Path": "<>"},
    )
    assert cli(config, "once")[0] == 0
    found = states(config)["<root@x>"]
    assert found["state"] == "drafted"
    assert "does not count as an answer" in found["why"]


# ---------------------------------------------------------------- bounces


def dsn(original_mid: str, recipient: str, action: str, status: str) -> bytes:
    return (
        textwrap.dedent(f"""\
        From: Mail Delivery System <MAILER-DAEMON@hospital.org>
        To: resident@example.edu
        Subject: Undelivered Mail Returned to Sender
        Message-ID: <dsn-{action}@hospital.org>
        Date: {format_datetime(SENT_AT + timedelta(minutes=5))}
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="BB"

        --BB
        Content-Type: text/plain

        This is the mail system. Your message could not be delivered.

        --BB
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.hospital.org

        Final-Recipient: rfc822; {recipient}
        Action: {action}
        Status: {status}
        Diagnostic-Code: smtp; 550 5.1.1 user unknown

        --BB
        Content-Type: text/rfc822-headers

        From: resident@example.edu
        To: {recipient}
        Subject: Mentorship
        Message-ID: {original_mid}

        --BB--
        """)
        .replace("\n", "\r\n")
        .encode()
    )


def test_a_bounce_marks_the_request_bounced_and_flagged_with_no_draft(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])
    send(mail_user, "<other@x>", ["rpatel@hospital.org"])
    mail_user.append(
        "INBOX", dsn("<root@x>", "jsmith@hospital.org", "failed", "5.1.1"), when=SENT_AT + timedelta(minutes=5)
    )
    mail_user.append(
        "INBOX", dsn("<other@x>", "rpatel@hospital.org", "delayed", "4.4.7"), when=SENT_AT + timedelta(minutes=5)
    )
    code, out = cli(config, "once")
    assert code == 0, out
    found = states(config)
    assert found["<root@x>"]["state"] == "bounced"
    assert found["<other@x>"]["state"] == "drafted"  # a delay is not a failure
    assert "delayed" in found["<other@x>"]["why"]
    drafts = mail_user.messages("Drafts")
    assert len(drafts) == 1 and b"rpatel@hospital.org" in next(iter(drafts.values()))[b"BODY[]"]
    sent_flags = {
        m[b"BODY[]"].split(b"Message-ID: ")[1].split(b"\r\n")[0]: m[b"FLAGS"]
        for m in mail_user.messages("Sent").values()
    }
    assert b"\\Flagged" in sent_flags[b"<root@x>"]


def _bounce_sources() -> list[object]:
    from tests.test_corpus import BSD, CORPUS

    own = Path(__file__).parent / "fixtures" / "mail" / "bounce-postfix-dsn.eml"
    corpus = BSD / "lhost-postfix-01.eml"
    reason = f"the extended corpus is not at {CORPUS} (a fresh clone has none)"
    absent = pytest.mark.skipif(not corpus.exists(), reason=reason)
    return [pytest.param(own, id="own fixture"), pytest.param(corpus, id="corpus", marks=absent)]


@pytest.mark.parametrize("source", _bounce_sources())
def test_a_real_bounce_is_tied_by_recipient(mail_user, setup, source):
    import re

    from assistant.core.bounces import parse_delivery_report

    raw = source.read_bytes()
    # The recorded report is years old; it arrives a few minutes after our request here.
    new_date = format_datetime(SENT_AT + timedelta(minutes=5)).encode()
    raw = re.sub(rb"(?m)^Date: .*$", b"Date: " + new_date, raw, count=1)

    report = parse_delivery_report(raw)
    assert report is not None and report.permanent
    failed = report.recipients[0]
    mentors = f'\n[[mentors]]\nname = "Dr. Bounce"\nemail = ["{failed}"]\n'
    config = setup(mentors=mentors)
    send(mail_user, "<root@x>", [failed])
    mail_user.append("INBOX", raw, when=SENT_AT + timedelta(minutes=5))
    code, out = cli(config, "once")
    assert code == 0, out
    found = states(config)["<root@x>"]
    assert found["state"] == "bounced", found


# ---------------------------------------------------------------- incremental scans


def test_a_no_change_cycle_fetches_nothing_and_nothing_is_marked_read(mail_user, setup, monkeypatch):
    from assistant.adapters import imap

    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])
    receive(mail_user, "<r@h>", "jsmith@hospital.org", reply_to="<root@x>")
    assert cli(config, "once")[0] == 0
    calls: list[str] = []
    original = imap.ImapMailbox.fetch_headers

    def counting(self, folder, uids, keep=None, *, sizes=False):
        calls.extend(f"{folder}:{u}" for u in uids)
        return original(self, folder, uids, keep, sizes=sizes)

    monkeypatch.setattr(imap.ImapMailbox, "fetch_headers", counting)
    assert cli(config, "once", now=NOW + timedelta(minutes=1))[0] == 0
    assert calls == []
    receive(mail_user, "<new@h>", "someone@else.org", subject="Unrelated")
    assert cli(config, "once", now=NOW + timedelta(minutes=2))[0] == 0
    assert len(calls) == 1  # only the new message's headers
    flags = [m[b"FLAGS"] for m in mail_user.messages("INBOX").values()]
    assert all(b"\\Seen" not in f for f in flags)


def test_a_uidvalidity_change_is_resolved_by_message_id(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])
    assert cli(config, "once")[0] == 0
    assert len(mail_user.messages("Drafts")) == 1
    # The Sent folder is rebuilt (as a migration or a server restore does): new UIDVALIDITY.
    with mail_user.client() as c:
        c.select_folder("Sent")
        raws = [m[b"BODY[]"] for m in c.fetch(c.search(["ALL"]), ["BODY.PEEK[]", "FLAGS"]).values()]
        c.close_folder()
        c.delete_folder("Sent")
        c.create_folder("Sent")
        for raw in raws:
            c.append("Sent", raw, flags=[b"\\Seen"], msg_time=SENT_AT)
    code, out = cli(config, "once", now=NOW + timedelta(minutes=5))
    assert code == 0, out
    assert len(states(config, NOW + timedelta(minutes=5))) == 1
    assert len(mail_user.messages("Drafts")) == 1
    assert states(config, NOW + timedelta(minutes=5))["<root@x>"]["state"] == "drafted"


def test_a_reply_that_arrived_before_the_sent_copy_was_scanned_is_found(mail_user, setup):
    config = setup()
    assert cli(config, "once")[0] == 0  # an empty first scan
    receive(mail_user, "<early@h>", "jsmith@hospital.org", reply_to="<root@x>")
    assert cli(config, "once", now=NOW + timedelta(minutes=1))[0] == 0  # the reply is not about anything yet
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])  # the Sent copy shows up late
    assert cli(config, "once", now=NOW + timedelta(minutes=2))[0] == 0
    assert states(config, NOW + timedelta(minutes=2))["<root@x>"]["state"] == "replied"


def test_why_names_the_message_and_the_rule(mail_user, setup):
    config = setup()
    send(mail_user, "<root@x>", ["jsmith@hospital.org"])
    receive(mail_user, "<r@h>", "jsmith@hospital.org", reply_to="<root@x>")
    cli(config, "once")
    why = states(config)["<root@x>"]["why"]
    assert "<r@h>" in why and "In-Reply-To" in why and "jsmith@hospital.org" in why
    result = CliRunner().invoke(
        main, ["--config", str(config), "status"], env={"MENTOR_ASSISTANT_NOW": NOW.isoformat()}
    )
    assert "replied" in result.output
